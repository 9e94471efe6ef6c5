"""Every write of the integrations app: webhook endpoints, deliveries and their attempts, and outgoing e-mail.

Nothing here talks to the outside inside a transaction: ``queue_webhook`` writes the delivery in the caller's
transaction and enqueues ``deliver_webhook_task`` after commit; ``deliver`` claims an attempt in one short
transaction, sends with no transaction open, and records the outcome in another. ``send_templated_email``
sends after commit.
"""

import base64
import logging
import re
import secrets as random_secrets
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.template import Context, Engine
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version
from guanxi.core.models import Event
from guanxi.integrations import transport
from guanxi.integrations.errors import (
    DeliveryInProgress,
    DeliveryNotFound,
    DestinationRefused,
    EndpointNotFound,
    WebhookInvalid,
    WebhooksDenied,
)
from guanxi.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from guanxi.integrations.transport import check_destination

__all__ = [
    "check_destination",
    "create_endpoint",
    "delete_endpoint",
    "deliver",
    "queue_webhook",
    "redeliver",
    "render_text",
    "rotate_secret",
    "send_templated_email",
    "send_test",
    "update_endpoint",
]

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status

# Standard Webhooks' suggested schedule: the waits after attempts 1, 2, 3 ... (so 8 attempts in all).
DEFAULT_RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
ROTATION_GRACE = timedelta(hours=24)
EVENT_TYPE = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
MAX_EVENT_TYPES = 50
EDITABLE = ("url", "description", "event_types", "active", "allow_private")


def retry_delays() -> tuple[int, ...]:
    """Seconds to wait before each retry (``GUANXI_WEBHOOK_RETRY_DELAYS``; tests use short ones)."""
    return tuple(getattr(settings, "GUANXI_WEBHOOK_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def generate_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes, the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(random_secrets.token_bytes(32)).decode("ascii")


def _require_admin(actor) -> None:
    if access.role_of(actor) != access.ADMIN:
        raise WebhooksDenied(_("Only admins can manage webhooks."))


def _clean_event_types(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,]+", value) if part]
    if not isinstance(value, list | tuple) or not value:
        raise WebhookInvalid(_("Choose at least one event type."), event_types=[_("Choose at least one event type.")])
    cleaned: list[str] = []
    for item in value:
        if not isinstance(item, str) or not EVENT_TYPE.match(item.strip()):
            message = _("“%(value)s” is not an event type (e.g. order.placed, customer.*, or * for all).") % {
                "value": str(item)[:100]
            }
            raise WebhookInvalid(message, event_types=[message])
        if item.strip() not in cleaned:
            cleaned.append(item.strip())
    if len(cleaned) > MAX_EVENT_TYPES:
        message = _("At most %(count)s event types.") % {"count": MAX_EVENT_TYPES}
        raise WebhookInvalid(message, event_types=[message])
    return cleaned


def _clean_url(url: str, *, allow_private: bool) -> str:
    url = (url or "").strip()
    if not url or len(url) > 500:
        message = _("Enter a URL of at most 500 characters.")
        raise WebhookInvalid(message, url=[message])
    check_destination(url, allow_private=allow_private)
    return url


def _invalidate_endpoint_cache() -> None:
    connection.__dict__.pop("_guanxi_webhook_endpoints", None)


def _locked_endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointNotFound(_("No webhook endpoint with id %(id)s.") % {"id": endpoint_id})
    return endpoint


# ------------------------------------------------------------------------------------------------ endpoints


@transaction.atomic
def create_endpoint(
    *,
    actor: User,
    url: str,
    event_types: Sequence[str] | str,
    description: str = "",
    active: bool = True,
    allow_private: bool = False,
) -> WebhookEndpoint:
    """Register a receiver (admins). The URL must pass the SSRF guard now and again at every delivery.

    Generates the signing secret (``endpoint.secret``: show it to the admin). Emits ``webhook_endpoint.created``.
    """
    _require_admin(actor)
    endpoint = WebhookEndpoint.objects.create(
        url=_clean_url(url, allow_private=allow_private),
        description=(description or "").strip()[:200],
        event_types=_clean_event_types(event_types),
        active=bool(active),
        allow_private=bool(allow_private),
        secret=generate_secret(),
        created_by=actor,
    )
    events.record(
        "webhook_endpoint.created",
        subject=endpoint,
        actor=actor,
        payload={"url": endpoint.url, "event_types": endpoint.event_types},
        audit_action="create",
        changes={name: [None, getattr(endpoint, name)] for name in EDITABLE},
    )
    _invalidate_endpoint_cache()
    return endpoint


@transaction.atomic
def update_endpoint(*, actor: User, endpoint_id: int, version: int | None, data: dict[str, Any]) -> WebhookEndpoint:
    """Change an endpoint's URL, description, event types, active flag or private-address permission (admins;
    optimistic locking). Emits ``webhook_endpoint.updated``."""
    _require_admin(actor)
    endpoint = _locked_endpoint(endpoint_id)
    check_version(endpoint, version)
    before = events.snapshot(endpoint, EDITABLE)
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise WebhookInvalid(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    if "allow_private" in data:
        endpoint.allow_private = bool(data["allow_private"])
    if "description" in data:
        endpoint.description = (data["description"] or "").strip()[:200]
    if "event_types" in data:
        endpoint.event_types = _clean_event_types(data["event_types"])
    if "active" in data:
        endpoint.active = bool(data["active"])
    if "url" in data or "allow_private" in data:
        endpoint.url = _clean_url(data.get("url", endpoint.url), allow_private=endpoint.allow_private)
    changes = events.diff(before, events.snapshot(endpoint, EDITABLE))
    if not changes:
        return endpoint
    bump_version(endpoint)
    endpoint.save()
    events.record(
        "webhook_endpoint.updated",
        subject=endpoint,
        actor=actor,
        payload={"fields": sorted(changes)},
        audit_action="update",
        changes=changes,
    )
    _invalidate_endpoint_cache()
    return endpoint


@transaction.atomic
def rotate_secret(*, actor: User, endpoint_id: int) -> WebhookEndpoint:
    """Give an endpoint a new secret (admins). For 24 hours messages carry a signature with the old secret too,
    so the receiver can switch without losing messages. Emits ``webhook_endpoint.secret_rotated``."""
    _require_admin(actor)
    endpoint = _locked_endpoint(endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_GRACE
    endpoint.secret = generate_secret()
    bump_version(endpoint)
    endpoint.save()
    events.record(
        "webhook_endpoint.secret_rotated",
        subject=endpoint,
        actor=actor,
        payload={},
        audit_action="update",
        changes={"secret": ["***", "***"]},
    )
    return endpoint


@transaction.atomic
def delete_endpoint(*, actor: User, endpoint_id: int) -> None:
    """Remove an endpoint (admins). Its delivery log stays (endpoint set to null); pending deliveries stop.
    Emits ``webhook_endpoint.deleted``."""
    _require_admin(actor)
    endpoint = _locked_endpoint(endpoint_id)
    WebhookDelivery.objects.filter(endpoint=endpoint, status__in=[Status.PENDING, Status.RETRYING]).update(
        status=Status.FAILED, next_attempt_at=None, last_error=_("The endpoint was deleted.")
    )
    events.record(
        "webhook_endpoint.deleted",
        subject=endpoint,
        actor=actor,
        payload={"url": endpoint.url},
        audit_action="delete",
        changes={name: [getattr(endpoint, name), None] for name in EDITABLE},
    )
    endpoint.delete()
    _invalidate_endpoint_cache()


@transaction.atomic
def send_test(*, actor: User, endpoint_id: int) -> WebhookDelivery:
    """Queue a ``webhook.test`` message to one endpoint (admins), whatever event types it subscribes to."""
    _require_admin(actor)
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointNotFound(_("No webhook endpoint with id %(id)s.") % {"id": endpoint_id})
    return queue_webhook(
        endpoint=endpoint,
        event_type="webhook.test",
        payload={"endpoint_id": endpoint.pk, "sent_by": actor.get_username(), "message": "Hello from Guanxi"},
    )


# ------------------------------------------------------------------------------------------------ deliveries


def _enqueue(delivery_id: int, run_after: datetime | None = None) -> None:
    from guanxi.integrations.tasks import deliver_webhook_task

    task = deliver_webhook_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # e.g. the immediate backend: retry_due_deliveries() picks it up when it is due
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id)


@transaction.atomic
def queue_webhook(
    *,
    url: str | None = None,
    endpoint: WebhookEndpoint | None = None,
    event_type: str,
    payload: Any,
    event_id: int | None = None,
    secret: str | None = None,
) -> WebhookDelivery:
    """Write a delivery of ``payload`` to ``endpoint`` (signed with its secret) or to ``url`` (signed with
    ``secret`` if given), in the caller's transaction; the first attempt is enqueued after commit.

    The SSRF guard runs at delivery time: a refused address fails the delivery without a request. Only the
    scheme is checked here (WebhookInvalid otherwise).
    """
    if (url is None) == (endpoint is None):
        raise WebhookInvalid(_("Give either an endpoint or a URL."))
    target = endpoint.url if endpoint is not None else (url or "").strip()
    if not target.lower().startswith(("http://", "https://")) or len(target) > 500:
        raise WebhookInvalid(_("Only http and https URLs can receive webhooks."), url=[target[:100]])
    if secret:
        try:
            transport.Webhook(secret)
        except Exception as exc:  # standardwebhooks raises several types for a malformed secret
            raise WebhookInvalid(_("The signing secret is not valid (expected whsec_ and base64).")) from exc
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        url=target,
        event_type=event_type[:100],
        event_id=event_id,
        message_id=f"msg_{uuid.uuid4().hex}",
        payload=events.jsonable(payload),
        secret=(secret or "") if endpoint is None else "",
        status=Status.PENDING,
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)
    return delivery


def _signing_secrets(delivery: WebhookDelivery, endpoint: WebhookEndpoint | None, now: datetime) -> list[str]:
    if endpoint is None:
        return [delivery.secret] if delivery.secret else []
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        found.append(endpoint.previous_secret)
    return found


def _claim_attempt(delivery_id: int, *, force: bool) -> tuple[WebhookDelivery, int] | None:
    """Take the next attempt of a due delivery: the attempt number, or None when it is not ours to send (done,
    not due yet, or another worker took this attempt)."""
    with transaction.atomic(durable=True):
        delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
        if delivery is None or delivery.status not in (Status.PENDING, Status.RETRYING):
            return None
        now = timezone.now()
        if not force and delivery.next_attempt_at and delivery.next_attempt_at > now:
            return None
        # The lease: until the attempt is recorded, the delivery is not due, so a duplicate task waits; if this
        # worker dies, the delivery becomes due again when the lease ends.
        connect, read = getattr(settings, "GUANXI_WEBHOOK_TIMEOUT", transport.DEFAULT_TIMEOUT)
        lease_until = now + timedelta(seconds=connect + read + 60)
        claimed = WebhookDelivery.objects.filter(
            pk=delivery_id, attempts=delivery.attempts, status__in=[Status.PENDING, Status.RETRYING]
        ).update(attempts=F("attempts") + 1, next_attempt_at=lease_until)
        if claimed != 1:
            return None
        delivery.attempts += 1
        return delivery, delivery.attempts


def deliver(delivery_id: int, *, force: bool = False) -> WebhookDelivery:
    """Make one attempt of a delivery and record it; on failure schedule the next (exponential backoff) or,
    after the last, mark it failed, emit ``webhook.delivery_failed`` and notify the admins.

    Must not run inside a transaction (RuntimeError): the HTTP request never holds one. A delivery that is
    finished, not yet due (unless ``force``) or being sent by another worker is returned unchanged. The SSRF
    guard runs again here and the request goes to the address it checked; a refused address fails the
    delivery at once, without a request.
    """
    claim = _claim_attempt(delivery_id, force=force)
    if claim is None:
        delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
        if delivery is None:
            raise DeliveryNotFound(_("No webhook delivery with id %(id)s.") % {"id": delivery_id})
        return delivery
    delivery, number = claim
    endpoint = delivery.endpoint
    sent_at = timezone.now()
    body = transport.build_body(delivery.event_type, delivery.created_at, delivery.payload)
    headers: dict[str, str] = {}
    permanent = False
    try:
        destination = transport.resolve_destination(
            delivery.url, allow_private=endpoint.allow_private if endpoint else False
        )
    except DestinationRefused as exc:
        outcome = transport.Outcome(error=exc.message[:500])
        # A refused address or URL will not change by waiting; a name that did not resolve might.
        permanent = "address" in exc.details or "host" not in exc.details
    else:
        signing = _signing_secrets(delivery, endpoint, sent_at)
        if signing:
            headers = transport.sign_headers(
                secrets=signing, message_id=delivery.message_id, sent_at=sent_at, body=body
            )
        else:
            headers = {
                "webhook-id": delivery.message_id,
                "webhook-timestamp": str(int(sent_at.timestamp())),
                "content-type": "application/json",
                "user-agent": transport.USER_AGENT,
            }
        outcome = transport.post(destination, headers=headers, body=body)
    return _record_outcome(delivery.pk, number, sent_at, headers, body, outcome, permanent=permanent)


@transaction.atomic(durable=True)
def _record_outcome(
    delivery_id: int,
    number: int,
    sent_at: datetime,
    headers: dict[str, str],
    body: str,
    outcome: transport.Outcome,
    *,
    permanent: bool,
) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint").get(pk=delivery_id)
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=number,
        at=sent_at,
        request_headers={k: v for k, v in headers.items() if k != "webhook-signature"}
        | ({"webhook-signature": "v1,…"} if "webhook-signature" in headers else {}),
        request_body=body,
        status_code=outcome.status_code,
        error=outcome.error[:500],
        response_excerpt=outcome.response_excerpt,
        duration_ms=outcome.duration_ms,
    )
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error[:500]
    delivery.response_excerpt = outcome.response_excerpt
    if delivery.status not in (Status.PENDING, Status.RETRYING):  # e.g. its endpoint was deleted meanwhile
        delivery.save(update_fields=["last_status_code", "last_error", "response_excerpt"])
        return delivery
    delays = retry_delays()
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = Status.SUCCEEDED, now, None
    elif not permanent and number <= len(delays):
        delivery.status = Status.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=delays[number - 1])
        run_after = delivery.next_attempt_at
        transaction.on_commit(lambda: _enqueue(delivery_id, run_after), robust=True)
    else:
        delivery.status, delivery.next_attempt_at = Status.FAILED, None
    delivery.save()
    if delivery.status == Status.FAILED:
        _report_failure(delivery)
    return delivery


def _report_failure(delivery: WebhookDelivery) -> None:
    from guanxi.notifications.services import notify

    payload = {
        "delivery_id": delivery.pk,
        "endpoint_id": delivery.endpoint_id,
        "url": delivery.url,
        "event_type": delivery.event_type,
        "event_id": delivery.event_id,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
    }
    if isinstance(delivery.payload, dict) and delivery.payload.get("customer_id") is not None:
        payload["customer_id"] = delivery.payload["customer_id"]
    events.record("webhook.delivery_failed", subject=delivery, payload=payload)
    for admin in User.objects.filter(role=User.Role.ADMIN, is_active=True):
        notify(
            admin,
            "webhook_failed",
            gettext_noop("Webhook %(event_type)s to %(url)s failed after %(attempts)s attempts: %(error)s"),
            f"/webhooks/deliveries/{delivery.pk}/",
            params={
                "event_type": delivery.event_type,
                "url": delivery.url[:200],
                "attempts": delivery.attempts,
                "error": delivery.last_error[:200],
            },
        )


@transaction.atomic
def redeliver(*, actor: User, delivery_id: int) -> WebhookDelivery:
    """Send a finished delivery again as a new delivery with the same message id and body (admins); the
    receiver can recognise it by ``webhook-id``. 409 while the original is still being tried."""
    _require_admin(actor)
    original = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if original is None:
        raise DeliveryNotFound(_("No webhook delivery with id %(id)s.") % {"id": delivery_id})
    if original.status in (Status.PENDING, Status.RETRYING):
        raise DeliveryInProgress(_("This delivery is still being tried."))
    now = timezone.now()
    copy = WebhookDelivery.objects.create(
        endpoint_id=original.endpoint_id,
        url=original.endpoint.url if original.endpoint_id else original.url,
        event_type=original.event_type,
        event_id=original.event_id,
        message_id=original.message_id,
        payload=original.payload,
        secret=original.secret,
        status=Status.PENDING,
        next_attempt_at=now,
        redelivery_of=original,
        created_at=original.created_at,
    )
    events.record(
        "webhook.redelivered",
        subject=copy,
        actor=actor,
        payload={"delivery_id": copy.pk, "original_id": original.pk, "event_type": original.event_type},
        audit_action="create",
        changes={"redelivery_of": [None, original.pk]},
    )
    transaction.on_commit(lambda: _enqueue(copy.pk), robust=True)
    return copy


def retry_due_deliveries(now: datetime | None = None, *, limit: int = 500) -> int:
    """Enqueue an attempt for every delivery that is due but has no task (a lost task, or a task backend that
    cannot defer); returns how many. Safe to run often: ``deliver`` skips what is not due or already taken."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status__in=[Status.PENDING, Status.RETRYING], next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        _enqueue(delivery_id)
    return len(due)


# ------------------------------------------------------------------------------------------------ subscriptions


def _type_matches(patterns: Iterable[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def active_endpoints() -> list[tuple[int, tuple[str, ...]]]:
    """(id, event types) of the active endpoints, read once per transaction.

    The cache lives on the connection and is keyed by its list of on-commit callbacks, which Django replaces at
    every commit and rollback; endpoint services drop it when they change an endpoint.
    """
    cached = connection.__dict__.get("_guanxi_webhook_endpoints")
    if cached is not None and cached[0] is connection.run_on_commit:
        return cached[1]
    found = [
        (pk, tuple(types or ()))
        for pk, types in WebhookEndpoint.objects.filter(active=True).values_list("pk", "event_types")
    ]
    connection.__dict__["_guanxi_webhook_endpoints"] = (connection.run_on_commit, found)
    return found


def _skip(event: Event) -> bool:
    # A failed delivery of a failure report would report itself again: follow failures one level only.
    return event.type == "webhook.delivery_failed" and (event.payload or {}).get("event_type") == (
        "webhook.delivery_failed"
    )


def queue_for_events(recorded: Sequence[Event]) -> int:
    """Queue a delivery to every active endpoint subscribed to each event's type (in the recording
    transaction; sent after commit). One query per transaction when there are no endpoints."""
    subscriptions = active_endpoints()
    if not subscriptions:
        return 0
    wanted = [
        (event, pk)
        for event in recorded
        if not _skip(event)
        for pk, patterns in subscriptions
        if _type_matches(patterns, event.type)
    ]
    if not wanted:
        return 0
    endpoints = WebhookEndpoint.objects.in_bulk({pk for _event, pk in wanted})
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoints[pk],
                url=endpoints[pk].url,
                event_type=event.type,
                event_id=event.pk,
                message_id=f"msg_{uuid.uuid4().hex}",
                payload=events.jsonable(
                    {
                        "event_id": event.pk,
                        "subject_type": event.subject_type,
                        "subject_id": event.subject_id,
                        "actor_id": event.actor_id,
                        "occurred_at": event.occurred_at,
                        "payload": event.payload,
                    }
                ),
                status=Status.PENDING,
                next_attempt_at=now,
                created_at=event.occurred_at or now,
            )
            for event, pk in wanted
            if pk in endpoints
        ]
    )
    ids = [delivery.pk for delivery in deliveries]
    if any(pk is None for pk in ids):
        raise RuntimeError("bulk_create did not return the deliveries' primary keys")
    transaction.on_commit(lambda: [_enqueue(pk) for pk in ids], robust=True)
    return len(ids)


# ------------------------------------------------------------------------------------------------ e-mail

_TEXT_ENGINE = Engine(autoescape=False)
# Consent is recorded per privacy channel; e-mail outreach needs the e-mail marketing consent.
CONSENT_CHANNELS = {"email": "email_marketing"}


def render_text(template: str, context: dict[str, Any]) -> str:
    """Render ``{{ placeholders }}`` in a plain-text template (Django template language, no HTML escaping)."""
    return _TEXT_ENGINE.from_string(template).render(Context(context, autoescape=False))


def _send(addresses: list[str], subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses, fail_silently=False)
    except Exception:  # the caller's change is committed; a mail server outage is logged, not raised
        logger.exception("Could not send e-mail to %s", ", ".join(addresses))


def send_templated_email(
    *,
    to: str | Sequence[str],
    subject: str,
    body: str,
    customer=None,
    channel: str = "email",
    context: dict[str, Any] | None = None,
) -> bool:
    """Send a plain-text e-mail after the current transaction commits (at once when none is open).

    Returns False and sends nothing when ``customer`` is given and ``privacy.may_contact(customer, channel)``
    is False (no current, granted consent; ``"email"`` is the privacy channel ``email_marketing``), or when
    there is no valid address; the caller logs why. An unknown channel is a ValueError. With
    ``context`` the subject and body are rendered as templates first (``render_text``).
    """
    from guanxi.privacy.services import may_contact

    if customer is not None and not may_contact(customer, CONSENT_CHANNELS.get(channel, channel)):
        return False
    addresses = [to] if isinstance(to, str) else list(to)
    valid = []
    for address in addresses:
        address = (address or "").strip()
        try:
            validate_email(address)
        except ValidationError:
            logger.warning("Not e-mailing an invalid address %r", address[:100])
            continue
        valid.append(address)
    if not valid:
        return False
    if context is not None:
        subject, body = render_text(subject, context), render_text(body, context)
    subject = " ".join(subject.split())[:200]  # no header injection through line breaks
    transaction.on_commit(lambda: _send(valid, subject, body))
    return True
