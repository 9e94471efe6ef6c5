"""Every privacy write: consent records, the profiling opt-out, exports and erasures (GDPR / PIPL).

Who may do what:
- record consent: whoever may edit the customer (owner, shared colleague, manager, admin);
- export: the owner's side (owner, their manager, admin: ``editable_customers(for_delete=True)``);
- erase: admins, and managers of the team the customer belongs to.
A customer outside the actor's sight is a 404; one they see but may not act on is a 403. Exports and erasures
are audited like any change.
"""

import io
import json
import re
import zipfile
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.core.models import AuditEntry, Event
from guanxi.core.tabular import csv_bytes
from guanxi.customers import personal_data
from guanxi.customers import services as customer_services
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.privacy.errors import ConsentInvalid, ErasureInvalid, PrivacyActionDenied
from guanxi.privacy.models import Channel, Consent, ErasureLog

ERASED = "[erased]"


def _customer_for(actor: User, customer_id: int, allowed: QuerySet, denial: str, *, lock: bool = False) -> Customer:
    """The customer from ``allowed`` (locked when asked); 404 when invisible to the actor, 403 when visible only."""
    if lock:
        allowed = allowed.select_for_update()
    customer = allowed.filter(pk=customer_id).first()
    if customer is None:
        if access.visible_customers(actor).filter(pk=customer_id).exists():
            raise PrivacyActionDenied(denial)
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


def erasable_customers(actor: User) -> QuerySet:
    """Customers ``actor`` may erase: any for admins, their teams' for managers, none for anyone else."""
    role = access.role_of(actor)
    customers = access.visible_customers(actor)
    if role == access.ADMIN:
        return customers
    if role == access.MANAGER:
        return customers.filter(team_id__in=access.managed_team_ids(actor))
    return customers.none()


def exportable_customers(actor: User) -> QuerySet:
    return access.editable_customers(actor, for_delete=True)


# --- consent -----------------------------------------------------------------------------------------------


@transaction.atomic
def record_consent(
    *, actor: User, customer_id: int, channel: str, status: str, source: str, evidence: str = ""
) -> Consent:
    """Append a consent statement (granted or withdrawn) for one channel; it becomes the current state.

    Emits ``consent.recorded`` with an audit entry on the customer (``consent.<channel>``: old -> new status).
    """
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Channel.values)}]
    if status not in Consent.Status.values:
        errors["status"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Consent.Status.values)}]
    if source not in Consent.Source.values:
        errors["source"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Consent.Source.values)}]
    evidence = (evidence or "").strip()
    if len(evidence) > 2000:
        errors["evidence"] = [_("At most %(n)d characters.") % {"n": 2000}]
    if errors:
        raise ConsentInvalid(_("The consent record is not valid."), **errors)
    customer = _customer_for(
        actor,
        customer_id,
        access.editable_customers(actor),
        _("You can see this customer but not record their consent."),
        lock=True,
    )
    previous = current_status(customer, channel)
    consent = Consent.objects.create(
        customer=customer,
        channel=channel,
        status=status,
        source=source,
        evidence=evidence,
        recorded_at=timezone.now(),
        recorded_by=actor,
    )
    events.record(
        "consent.recorded",
        subject=customer,
        actor=actor,
        payload={"channel": channel, "status": status, "source": source, "consent_id": consent.pk},
        audit_action="update",
        changes={f"consent.{channel}": [previous, status]},
    )
    return consent


def current_status(customer: Customer, channel: str) -> str | None:
    """The latest consent status for ``channel`` (granted / withdrawn), or None when never asked."""
    return (
        Consent.objects.filter(customer=customer, channel=channel)
        .order_by("-recorded_at", "-id")
        .values_list("status", flat=True)
        .first()
    )


def may_contact(customer: Customer, channel: str) -> bool:
    """Whether outreach on ``channel`` is allowed: only with a current, granted consent (opt-in, as PIPL and
    GDPR require for marketing). Every campaign, survey or reminder sender must ask this before sending."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    if customer.deleted_at is not None:
        return False
    return current_status(customer, channel) == Consent.Status.GRANTED


def set_profiling_opt_out(*, actor: User, customer_id: int, version: int | None, opt_out: bool) -> Customer:
    """Opt a customer out of (or back into) CLV / churn / segment scoring, through the customers service
    (optimistic locking, audit entry ``profiling_opt_out``)."""
    return customer_services.update_customer(
        actor=actor, customer_id=customer_id, version=version, data={"profiling_opt_out": opt_out}
    )


# --- export ------------------------------------------------------------------------------------------------


def _flat(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(events.jsonable(value), ensure_ascii=False)
    return value


@transaction.atomic
def export_customer(*, actor: User, customer_id: int) -> bytes:
    """Everything Guanxi holds about a customer as a zip: ``customer.json`` (every record type) and one CSV per
    type (cells through ``core.tabular.safe_cell``). Emits ``customer.exported`` with an audit entry."""
    customer = _customer_for(
        actor,
        customer_id,
        exportable_customers(actor).select_related("owner", "team"),
        _("Only the customer's owner, their manager or an administrator may export their data."),
    )
    records = {name: exporter(customer) for name, exporter in sorted(personal_data.exporters().items())}
    document = {
        "customer_id": customer.pk,
        "exported_at": timezone.now(),
        "exported_by": actor.get_username(),
        "records": records,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "customer.json", json.dumps(events.jsonable(document), ensure_ascii=False, indent=2, sort_keys=True)
        )
        for name, rows in records.items():
            header = sorted({key for row in rows for key in row}) or ["(none)"]
            archive.writestr(f"{name}.csv", csv_bytes(header, ([_flat(row.get(k)) for k in header] for row in rows)))
    events.record(
        "customer.exported",
        subject=customer,
        actor=actor,
        payload={"records": {name: len(rows) for name, rows in records.items()}},
        audit_action="other",
        changes={"exported": [None, sum(len(rows) for rows in records.values())]},
    )
    return buffer.getvalue()


# --- erasure -----------------------------------------------------------------------------------------------


def mask_email(email: str) -> str:
    """zhang.wei@example.com -> z***@e***.com"""
    local, _at, domain = email.partition("@")
    host, dot, tld = domain.rpartition(".")
    return f"{local[:1]}***@{host[:1]}***{dot}{tld}" if host else f"{local[:1]}***@***"


def mask_phone(phone: str) -> str:
    """+8613812345678 -> +86 138****5678 (country code, first three and last four digits)."""
    digits = re.sub(r"\D", "", phone)
    if phone.startswith("+86") and len(digits) == 13:
        return f"+86 {digits[2:5]}****{digits[-4:]}"
    return f"{phone[:4]}****{digits[-2:]}" if len(digits) > 6 else "****"


def mask_text(text: str) -> str:
    return f"{text[:1]}***" if text else ""


def _masked_identifiers(customer: Customer) -> list[str]:
    masked = [mask_text(customer.display_name)]
    masked += [mask_email(e) for e in customer.emails]
    masked += [mask_phone(p) for p in customer.phones]
    if customer.wechat_id:
        masked.append("WeChat " + mask_text(customer.wechat_id))
    return masked


def _scrub(value: Any, needles: list[str]) -> tuple[Any, bool]:
    """``value`` (JSON) with every string that contains a needle replaced by ERASED; and whether it changed."""
    if isinstance(value, str):
        lowered = value.lower()
        return (ERASED, True) if any(n in lowered for n in needles) else (value, False)
    if isinstance(value, list):
        pairs = [_scrub(v, needles) for v in value]
        return [v for v, _c in pairs], any(c for _v, c in pairs)
    if isinstance(value, dict):
        pairs = {k: _scrub(v, needles) for k, v in value.items()}
        return {k: v for k, (v, _c) in pairs.items()}, any(c for _v, c in pairs.values())
    return value, False


def _mention_q(field: str, needles: list[str]) -> Q:
    q = Q(pk__in=[])
    for needle in needles:
        q |= Q(**{f"{field}__icontains": needle})
    return q


def _redact(text: str, needles: list[str]) -> str:
    for needle in needles:
        text = re.sub(re.escape(needle), ERASED, text, flags=re.IGNORECASE)
    return text


def scrub_history(customer: Customer, needles: list[str]) -> dict[str, int]:
    """Overwrite the customer's personal values inside past audit entries and event payloads.

    AuditEntry and Event are append-only at the model layer; erasure must reach history too (GDPR art. 17,
    PIPL art. 47), so this is the one deliberate bypass: ``QuerySet.update`` on exactly the values that carry
    personal data. Who did what and when stays; the before/after values become "[erased]".
    """
    lowered = [n.lower() for n in needles]
    subject = Q(subject_type=Customer._meta.label_lower, subject_id=customer.pk)
    audits = 0
    # PostgreSQL narrows the candidates with ILIKE on the JSON text; SQLite stores non-ASCII JSON as \\u escapes,
    # so there every row is a candidate and Python decides.
    postgres = connection.vendor == "postgresql"
    audit_rows = AuditEntry.objects.all()
    event_rows = Event.objects.all()
    if postgres:
        audit_rows = audit_rows.filter(subject | _mention_q("changes", needles) | _mention_q("subject_label", needles))
        event_rows = event_rows.filter(_mention_q("payload", needles))
    candidates = audit_rows
    for entry in candidates.only("pk", "changes", "subject_label", "subject_type", "subject_id").iterator():
        changes, changed = _scrub(entry.changes, lowered)
        fields: dict[str, Any] = {}
        if changed:
            fields["changes"] = changes
        label, label_changed = _scrub(entry.subject_label, lowered)
        if entry.subject_type == Customer._meta.label_lower and entry.subject_id == customer.pk:
            label, label_changed = personal_data.erased_name(customer.pk), entry.subject_label != label
        if label_changed:
            fields["subject_label"] = label
        if fields:
            AuditEntry.objects.filter(pk=entry.pk).update(**fields)
            audits += 1
    event_count = 0
    for event in event_rows.only("pk", "payload").iterator():
        payload, changed = _scrub(event.payload, lowered)
        if changed:
            Event.objects.filter(pk=event.pk).update(payload=payload)
            event_count += 1
    return {"audit_entries": audits, "events": event_count}


@transaction.atomic
def erase_customer(*, actor: User, customer_id: int, reason: str) -> ErasureLog:
    """Irreversibly anonymise a customer's personal data (right to erasure), keeping orders for analytics.

    Runs every registered eraser (identities, tags, consents, scores ...), anonymises the profile (name becomes
    "Erased customer #id"; contacts, address, company, custom fields and search text cleared; profiling opt-out
    set), scrubs the personal values out of past audit entries and events, and writes an ErasureLog with masked
    identifiers as proof. Emits ``customer.erased``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ErasureInvalid(
            _("Give the reason for the erasure (e.g. the customer's request and its date)."),
            reason=[_("This field is required.")],
        )
    if len(reason) > 2000:
        raise ErasureInvalid(_("The reason is too long."), reason=[_("At most %(n)d characters.") % {"n": 2000}])
    customer = _customer_for(
        actor,
        customer_id,
        erasable_customers(actor),
        _("Only an administrator or the manager of the customer's team may erase a customer."),
        lock=True,
    )
    needles = personal_data.personal_strings(customer)
    masked = _masked_identifiers(customer)
    counts: dict[str, int] = {}
    for name, eraser in sorted(personal_data.erasers().items()):
        counts[name] = eraser(customer, needles)
    counts["profile"] = personal_data.erase_profile(customer, needles)
    counts.update(scrub_history(customer, needles))
    counts["orders_kept"] = customer.orders.count()
    now = timezone.now()
    log = ErasureLog.objects.create(
        customer_id=customer.pk,
        masked_identifiers=masked,
        reason=_redact(reason, needles),
        counts=counts,
        erased_at=now,
        erased_by=actor,
        erased_by_label=actor.get_username(),
    )
    events.record(
        "customer.erased",
        subject=customer,
        actor=actor,
        payload={"erasure_log_id": log.pk, "counts": counts},
        audit_action="delete",
        changes={"personal_data": [None, ERASED], "erasure_log_id": [None, log.pk]},
    )
    return log
