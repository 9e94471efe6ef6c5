"""Each action through a rule: validated on save, run through the owning app's service, logged."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from guanxi.automation import services
from guanxi.automation.errors import RuleInvalid
from guanxi.automation.models import RuleRun
from guanxi.customers import services as customers
from guanxi.followups.models import FollowUp
from guanxi.notifications.models import Notification
from guanxi.privacy import services as privacy


def run_of(rule):
    return RuleRun.objects.filter(rule=rule).latest("id")


def invalid(data, users):
    with pytest.raises(RuleInvalid) as caught:
        services.create_rule(actor=users["admin"], data=data)
    return caught.value.details


def base(actions, **extra):
    return {"name": "r", "trigger": "customer.created", "condition": "", "actions": actions, **extra}


def test_parameters_are_checked_on_save_with_a_message_per_parameter(users, quiet_playbooks):
    details = invalid(
        base(
            [
                {"type": "create_follow_up", "due_in_days": 400, "priority": "soon", "colour": "red"},
                {"type": "start_cadence", "policy": "no_such_policy"},
                {"type": "send_email", "template": "missing"},
                {"type": "notify", "to": "user", "user": "nobody"},
                {"type": "assign_owner"},
                {"type": "teleport"},
                "not an object",
            ]
        ),
        users,
    )
    assert set(details) == {
        "actions.0.title",
        "actions.0.due_in_days",
        "actions.0.priority",
        "actions.0.colour",
        "actions.1.policy",
        "actions.2.template",
        "actions.3.user",
        "actions.4.strategy",
        "actions.5.type",
        "actions.6",
    }
    assert "add_tag" in details["actions.5.type"][0]
    assert invalid(base([]), users) == {"actions": ["At least one action."]}
    assert "trigger" in invalid(base([{"type": "add_tag", "tag": "x"}], trigger="order.exploded"), users)


def test_create_follow_up_for_the_owner_once_per_rule(users, make_customer, make_rule, quiet_playbooks):
    rule = make_rule(
        "customer.updated",
        'tags has "hot"',
        [{"type": "create_follow_up", "title": "Call the hot lead", "due_in_days": 2, "priority": "urgent"}],
    )
    customer = make_customer(users["rep"])
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["hot"])
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["warm"])  # matches again: same task
    tasks = FollowUp.objects.filter(customer=customer)
    assert tasks.count() == 1
    task = tasks.get()
    assert (task.assignee, task.title, task.priority, task.source, task.rule_id) == (
        users["rep"],
        "Call the hot lead",
        "urgent",
        "automation",
        rule.pk,
    )
    assert task.due_on == timezone.localdate() + timedelta(days=2)
    assert run_of(rule).detail["actions"] == [{"type": "create_follow_up", "follow_up_id": task.pk}]


def test_start_cadence_and_plan_return_visits(users, make_customer, make_rule, quiet_playbooks):
    make_rule("customer.created", "", [{"type": "start_cadence", "policy": "new_customer"}])
    customer = make_customer(users["rep"])
    offsets = sorted((f.due_on - timezone.localdate()).days for f in FollowUp.objects.filter(customer=customer))
    assert offsets == [3, 14, 30]
    rule = make_rule("customer.updated", "", [{"type": "plan_return_visits"}])
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["x"])
    assert run_of(rule).status == "matched" and "planned" in run_of(rule).detail["actions"][0]


def test_assign_owner_acts_with_the_authors_rights(users, make_customer, make_rule, quiet_playbooks):
    by_manager = make_rule(
        "customer.updated", 'tags has "to_rep2"', [{"type": "assign_owner", "user": "rep2"}], actor=users["manager"]
    )
    customer = make_customer(users["rep"])
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["to_rep2"])
    customer.refresh_from_db()
    assert (
        customer.owner == users["rep2"] and run_of(by_manager).detail["actions"][0]["assigned_to"] == users["rep2"].pk
    )
    # The manager leads team A only: a team B customer is refused, the run is failed, the tag change stays.
    other = make_customer(users["rep_b"])
    customers.change_tags(actor=users["rep_b"], customer_id=other.pk, add=["to_rep2"])
    other.refresh_from_db()
    assert other.owner == users["rep_b"] and run_of(by_manager).status == "failed"
    assert sorted(other.tags.values_list("name", flat=True)) == ["to_rep2"]


def test_assign_owner_round_robin_within_the_team(users, make_customer, make_rule, quiet_playbooks):
    make_rule("customer.updated", 'tags has "rr"', [{"type": "assign_owner", "strategy": "round_robin"}])
    owners = []
    for n in range(3):
        customer = make_customer(users["manager"], display_name=f"c{n}")
        customers.change_tags(actor=users["admin"], customer_id=customer.pk, add=["rr"])
        customer.refresh_from_db()
        owners.append(customer.owner.username)
    assert owners == ["rep", "rep2", "rep"]


def test_remove_tag(users, make_customer, make_rule, quiet_playbooks):
    make_rule("customer.created", "", [{"type": "remove_tag", "tag": "lead"}])
    customer = make_customer(users["rep"], tags=["lead", "b2b"])
    assert list(customer.tags.values_list("name", flat=True)) == ["b2b"]


@pytest.fixture
def template(users):
    return services.save_template(
        actor=users["admin"],
        data={
            "key": "hello",
            "name": "Hello",
            "subject_en": "Hello {{ customer.display_name }}",
            "body_en": "Dear {{ customer.display_name }}, {{ owner.name }} here. {{ customer.owner }}",
            "subject_zh_hans": "{{ customer.display_name }}，您好",
            "body_zh_hans": "您好",
        },
    )


def test_send_email_only_with_consent(
    users, make_customer, make_rule, template, quiet_playbooks, django_capture_on_commit_callbacks
):
    rule = make_rule("customer.updated", 'tags has "mail"', [{"type": "send_email", "template": "hello"}])
    customer = make_customer(users["rep"], display_name="Li Lei", emails=["li@example.com"])
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["mail"])
    assert run_of(rule).detail["actions"] == [{"type": "send_email", "sent": False, "reason": "no_consent"}]
    privacy.record_consent(
        actor=users["rep"], customer_id=customer.pk, channel="email_marketing", status="granted", source="form"
    )
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, remove=["mail"])
    with django_capture_on_commit_callbacks(execute=True):
        customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["mail"])
    assert run_of(rule).detail["actions"] == [{"type": "send_email", "sent": True, "template": "hello"}]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li@example.com"] and message.subject == "Hello Li Lei"
    # Plain values only: the template cannot reach into the customer's model (owner, passwords ...).
    assert message.body == "Dear Li Lei, rep here. "
    privacy.record_consent(
        actor=users["rep"], customer_id=customer.pk, channel="email_marketing", status="withdrawn", source="form"
    )
    customers.change_tags(actor=users["rep"], customer_id=customer.pk, remove=["mail"])
    with django_capture_on_commit_callbacks(execute=True):
        customers.change_tags(actor=users["rep"], customer_id=customer.pk, add=["mail"])
    assert run_of(rule).detail["actions"][0]["sent"] is False and len(mail.outbox) == 1


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append((dict(self.headers), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()


def test_call_webhook_refuses_private_addresses_on_save_then_delivers(
    users, make_customer, make_rule, receiver, settings, quiet_playbooks
):
    url, received = receiver
    details = invalid(base([{"type": "call_webhook", "url": url}]), users)
    assert "127.0.0.1" in details["actions.0.url"][0]
    assert "actions.0.url" in invalid(base([{"type": "call_webhook", "url": "file:///etc/passwd"}]), users)
    settings.GUANXI_WEBHOOK_ALLOW_PRIVATE = True
    rule = make_rule("customer.created", "", [{"type": "call_webhook", "url": url, "secret": "whsec_" + "A" * 32}])
    customer = make_customer(users["rep"])
    delivery_id = run_of(rule).detail["actions"][0]["delivery_id"]
    from guanxi.integrations import services as integrations

    integrations.deliver(delivery_id, force=True)
    ((headers, body),) = received
    assert body["type"] == "automation.rule_matched"
    assert body["data"]["customer_id"] == customer.pk and body["data"]["rule_id"] == rule.pk
    assert "webhook-signature" in {k.lower() for k in headers}


def test_notify_the_owner_the_team_managers_or_a_user(users, make_customer, make_rule, quiet_playbooks):
    make_rule(
        "customer.created",
        "",
        [
            {"type": "notify", "to": "team_managers", "message": "100% sure: call %(customer)s"},
            {"type": "notify"},
            {"type": "notify", "to": "user", "user": "admin"},
        ],
        name="Big fish",
    )
    make_customer(users["rep"], display_name="Wang")
    mine = {n.user.username: n.text for n in Notification.objects.filter(kind="automation.rule")}
    assert mine == {
        "manager": "100% sure: call %(customer)s",
        "rep": "Rule “Big fish” matched Wang.",
        "admin": "Rule “Big fish” matched Wang.",
    }
