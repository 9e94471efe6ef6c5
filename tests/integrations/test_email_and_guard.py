"""send_templated_email (consent, after commit, rendering) and the SSRF guard's address rules."""

import ipaddress
import socket

import pytest
from django.core import mail
from django.db import transaction

from guanxi.integrations import services, transport
from guanxi.integrations.errors import DestinationRefused
from guanxi.privacy import services as privacy


@pytest.fixture
def customer(users, make_customer):
    return make_customer(users["rep"], display_name="Ada", emails=["ada@example.com"])


def _consent(users, customer, status):
    privacy.record_consent(
        actor=users["rep"], customer_id=customer.pk, channel="email_marketing", status=status, source="form"
    )


# ------------------------------------------------------------------------------------------------ e-mail


@pytest.mark.django_db
def test_no_consent_means_no_mail(users, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.send_templated_email(to="ada@example.com", subject="Hi", body="Hello", customer=customer)
    assert sent is False and mail.outbox == []


@pytest.mark.django_db
def test_withdrawn_consent_means_no_mail(users, customer, django_capture_on_commit_callbacks):
    _consent(users, customer, "granted")
    _consent(users, customer, "withdrawn")
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.send_templated_email(to="ada@example.com", subject="Hi", body="Hello", customer=customer)
    assert sent is False and mail.outbox == []


@pytest.mark.django_db
def test_invalid_address_is_not_sent(users, customer, django_capture_on_commit_callbacks):
    _consent(users, customer, "granted")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_templated_email(to="not an address", subject="Hi", body="x", customer=customer) is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_granted_consent_sends_after_commit_only(users, customer, django_capture_on_commit_callbacks):
    _consent(users, customer, "granted")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        sent = services.send_templated_email(
            to="ada@example.com",
            subject="Hello {{ name }}\nBcc: evil@example.com",
            body="Dear {{ name }}, <b>&</b> thanks",
            customer=customer,
            context={"name": "Ada & Co"},
        )
        assert sent is True and mail.outbox == []  # nothing leaves while the transaction is open
    assert len(callbacks) == 1
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Hello Ada & Co Bcc: evil@example.com"  # one line: no header injection
    assert message.body == "Dear Ada & Co, <b>&</b> thanks"  # plain text: nothing escaped


@pytest.mark.django_db
def test_rolled_back_transaction_sends_nothing(users, customer, django_capture_on_commit_callbacks):
    _consent(users, customer, "granted")
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.send_templated_email(to="ada@example.com", subject="Hi", body="x", customer=customer)
                raise RuntimeError("the use case failed")
        except RuntimeError:
            pass
    assert mail.outbox == []


@pytest.mark.django_db
def test_without_a_customer_there_is_no_consent_to_check(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_templated_email(to=["ops@example.com"], subject="Report", body="x") is True
    assert mail.outbox[0].to == ["ops@example.com"]


def test_render_text_does_not_escape():
    assert services.render_text("{{ a }} & {{ b|default:'-' }}", {"a": "<x>"}) == "<x> & -"


# ------------------------------------------------------------------------------------------------ SSRF guard


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),  # noqa: S104
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("::", True),
        ("93.184.216.34", False),
        ("2606:2800:220:1:248:1893:25c8:1946", False),
    ],
)
def test_address_rules(address, refused):
    assert (transport.forbidden_reason(ipaddress.ip_address(address)) is not None) is refused


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/", "file:///etc/passwd", "gopher://x/", "http:///nohost", "x"])
def test_only_http_and_https(url):
    with pytest.raises(DestinationRefused):
        transport.check_destination(url)


def test_any_private_address_among_several_refuses(monkeypatch):
    # A name with one public and one private address (a DNS answer we do not control).
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(DestinationRefused) as caught:
        transport.check_destination("https://hooks.example.com/x")
    assert caught.value.details["address"] == "10.0.0.7"
    transport.check_destination("https://hooks.example.com/x", allow_private=True)


def test_unresolvable_host_is_refused(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such name")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(DestinationRefused, match="could not be resolved"):
        transport.check_destination("https://nowhere.invalid/")


def test_connects_to_the_checked_address_not_a_second_lookup(monkeypatch, receiver, settings):
    """DNS rebinding: the name resolves once (to the receiver); a second lookup would say 10.0.0.1."""
    settings.GUANXI_WEBHOOK_ALLOW_PRIVATE = True
    port = int(receiver.url.split(":")[2].split("/")[0])
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])

    def rebinding(host, port_, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port_))]
        return real(host, port_, *args, **kwargs)

    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    destination = transport.resolve_destination(f"http://hooks.example.com:{port}/hook?x=1")
    outcome = transport.post(destination, headers={"content-type": "application/json"}, body="{}")

    assert outcome.succeeded, outcome.error
    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.example.com:{port}"
    assert request.path == "/hook?x=1"
