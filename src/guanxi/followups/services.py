"""Every write of follow-ups: manual tasks, cadences (regular return visits), completion, rescheduling,
cancellation, and the calendar feed token.

Each function is one transaction that records ``follow_up.*`` events (subject = the follow-up, payload with
``customer_id``, ``follow_up_id`` and ``assignee_id``) with their audit entries. The daily jobs (overdue marking,
reminder e-mails) live in ``guanxi.followups.jobs``.
"""

import hashlib
import secrets
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version
from guanxi.customers import services as customer_services
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.followups import selectors
from guanxi.followups.errors import FollowUpClosed, FollowUpDenied, FollowUpInvalid, PolicyInvalid
from guanxi.followups.models import CadencePolicy, CalendarFeed, FollowUp

Status = FollowUp.Status
ASSIGNEE_ROLES = (User.Role.SALES, User.Role.MANAGER)
WRITER_ROLES = (access.ADMIN, access.MANAGER, access.SALES)
TITLE_LIMIT = 200
NOTE_LIMIT = 2000


def _payload(follow_up: FollowUp, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": follow_up.customer_id,
        "follow_up_id": follow_up.pk,
        "assignee_id": follow_up.assignee_id,
        "due_on": follow_up.due_on,
        "source": follow_up.source,
        "policy": follow_up.policy.key if follow_up.policy_id else None,
        "rule_id": follow_up.rule_id,
        **extra,
    }


def _fields(follow_up: FollowUp) -> dict[str, Any]:
    return events.snapshot(
        follow_up, ("title", "note", "due_on", "priority", "status", "assignee_id", "customer_id", "source")
    )


def _clean_text(value: str, limit: int, field: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise FollowUpInvalid(_("Enter a title."), **{field: [_("This field is required.")]})
    if len(value) > limit:
        message = _("At most %(limit)s characters.") % {"limit": limit}
        raise FollowUpInvalid(message, **{field: [message]})
    return value


def _check_assignee(actor, customer: Customer, assignee_id: int) -> User:
    """The assignee if ``actor`` may give ``customer``'s follow-up to them (no actor: a system job, anyone active)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    else:
        assignee = selectors.assignee_choices(actor, customer).filter(pk=assignee_id).first()
    if assignee is None:
        message = _("This user cannot take follow-ups of this customer.")
        raise FollowUpInvalid(message, assignee_id=[message])
    return assignee


def _share_if_needed(actor, customer: Customer, assignee: User) -> None:
    """A manager who gives a follow-up to someone who cannot see the customer shares the customer with them
    (customers.services.share_customer), so that the assignee can open it and log the contact."""
    if not getattr(actor, "is_authenticated", False):
        return
    if not access.visible_customers(assignee).filter(pk=customer.pk).exists():
        customer_services.share_customer(actor=actor, customer_id=customer.pk, user_id=assignee.pk)


def _writable_customer(actor, customer_id: int) -> Customer:
    if actor is None or not getattr(actor, "is_authenticated", False):
        customers = access.visible_customers(None, system=True)
    else:
        if access.role_of(actor) not in WRITER_ROLES:
            raise FollowUpDenied(_("Your role cannot plan follow-ups."))
        customers = access.editable_customers(actor)
    customer = customers.select_related("owner").filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    return customer


def _locked(actor, follow_up_id: int) -> FollowUp:
    """The follow-up, row-locked, if ``actor`` may work on it; otherwise FollowUpNotFound."""
    if access.role_of(actor) not in WRITER_ROLES:
        raise FollowUpDenied(_("Your role cannot change follow-ups."))
    selectors.get_follow_up(actor, follow_up_id)  # the scope check, same answer as a read
    return FollowUp.objects.select_for_update(of=("self",)).select_related("customer", "policy").get(pk=follow_up_id)


# ------------------------------------------------------------------------------------------------ create


@transaction.atomic
def create_follow_up(
    *,
    actor,
    customer_id: int,
    title: str,
    due_on: date,
    assignee_id: int | None = None,
    priority: str = "normal",
    source: str = "manual",
    note: str = "",
    policy: CadencePolicy | None = None,
    rule_id: int | None = None,
    dedupe_key: str = "",
) -> FollowUp:
    """Plan a follow-up of a customer for ``assignee_id`` (default: the customer's owner) by ``due_on``.

    ``actor`` None is a system job (automation, cadences): any customer, any active assignee. Otherwise the actor
    must be able to change the customer; a rep may assign to themselves or the owner, a manager or admin to the
    people of the customer's team (sharing the customer with an assignee who could not see it). With a non-empty
    ``dedupe_key``, an open follow-up of the customer with that key is returned instead of creating another.
    Emits ``follow_up.created``.
    """
    customer = _writable_customer(actor, customer_id)
    title = _clean_text(title, TITLE_LIMIT, "title", required=True)
    note = _clean_text(note, NOTE_LIMIT, "note")
    if priority not in FollowUp.Priority.values:
        raise FollowUpInvalid(_("Unknown priority."), priority=[_("Choose normal or urgent.")])
    if source not in FollowUp.Source.values:
        raise FollowUpInvalid(_("Unknown source."), source=[_("Choose manual, cadence or automation.")])
    if not isinstance(due_on, date):
        raise FollowUpInvalid(_("Enter a due date."), due_on=[_("Enter a valid date.")])
    dedupe_key = (dedupe_key or "")[:120]
    if dedupe_key:
        existing = FollowUp.objects.filter(customer=customer, dedupe_key=dedupe_key, status=Status.OPEN).first()
        if existing is not None:
            return existing
    if assignee_id is None:
        assignee_id = customer.owner_id
        if assignee_id is None and actor is not None and access.role_of(actor) in (access.SALES, access.MANAGER):
            assignee_id = actor.pk
    if assignee_id is None:
        message = _("The customer has no owner: choose who follows up.")
        raise FollowUpInvalid(message, assignee_id=[message])
    assignee = _check_assignee(actor, customer, assignee_id)
    _share_if_needed(actor, customer, assignee)
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin with the same dedupe key may commit first
            follow_up = FollowUp.objects.create(
                customer=customer,
                assignee=assignee,
                title=title,
                note=note,
                due_on=due_on,
                priority=priority,
                source=source,
                policy=policy,
                rule_id=rule_id,
                dedupe_key=dedupe_key,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        existing = FollowUp.objects.filter(customer=customer, dedupe_key=dedupe_key, status=Status.OPEN).first()
        if not dedupe_key or existing is None:
            raise
        return existing
    events.record(
        "follow_up.created",
        subject=follow_up,
        actor=actor,
        payload=_payload(follow_up),
        audit_action="create",
        changes=events.diff({}, _fields(follow_up)),
    )
    return follow_up


# -------------------------------------------------------------------------------------------- cadences


def _customers_of(policy: CadencePolicy, customers: QuerySet) -> QuerySet | None:
    """Customers ``policy`` applies to, or None when it cannot apply (e.g. stages before the lifecycle app)."""
    if policy.applies_to == CadencePolicy.AppliesTo.ALL:
        return customers
    if policy.applies_to == CadencePolicy.AppliesTo.TIER:
        return customers.filter(score__abc_tier=policy.match_value)
    if policy.applies_to == CadencePolicy.AppliesTo.SEGMENT:
        return customers.filter(score__segment=policy.match_value)
    if policy.applies_to == CadencePolicy.AppliesTo.STAGE:
        try:
            apps.get_model("lifecycle", "CustomerStage")
        except LookupError:
            return None
        return customers.filter(lifecycle__stage=policy.match_value)
    return None


def _cadence_title(policy: CadencePolicy, offset: int | None = None) -> str:
    if offset is None:
        return _("Regular return visit (%(policy)s)") % {"policy": policy.name}
    return _("%(policy)s: day %(day)s") % {"policy": policy.name, "day": offset}


@transaction.atomic
def start_cadence(
    *, customer_id: int, policy_key: str, anchor_on: date, actor=None, rule_id: int | None = None
) -> list[FollowUp]:
    """Create the follow-ups of a sequence policy for a customer: one per offset, due ``anchor_on + offset``.

    E.g. ``new_customer`` = days 3, 14 and 30 after ``anchor_on`` (the first order). Idempotent: a step already
    created for this policy and anchor (open, done or cancelled) is not created again. Returns the follow-ups
    created now (empty when all exist, the policy is inactive, or the customer has no owner to follow up).
    Assigned to the customer's owner; emits ``follow_up.created`` for each.
    """
    policy = selectors.get_policy(policy_key)
    if policy.kind != CadencePolicy.Kind.SEQUENCE:
        raise PolicyInvalid(_("%(key)s is not a sequence policy.") % {"key": policy_key})
    customer = _writable_customer(actor, customer_id)
    if not policy.active or customer.owner_id is None or not customer.owner.is_active:
        return []
    created = []
    for offset in sorted({int(days) for days in policy.offsets_days}):
        key = f"cadence:{policy.key}:{anchor_on.isoformat()}:{offset}"
        if FollowUp.objects.filter(customer_id=customer.pk, dedupe_key=key).exists():
            continue
        created.append(
            create_follow_up(
                actor=None,
                customer_id=customer.pk,
                title=_cadence_title(policy, offset),
                due_on=anchor_on + timedelta(days=offset),
                assignee_id=customer.owner_id,
                source=FollowUp.Source.CADENCE,
                policy=policy,
                rule_id=rule_id,
                dedupe_key=key,
            )
        )
    return created


@transaction.atomic
def plan_return_visits(
    *, today: date, customer_ids=None, actor=None, rule_id: int | None = None, batch_size: int = 2000
) -> int:
    """Give every customer under an active interval policy one open return visit; return how many were created.

    Policies are taken by ``priority`` (lower first); a customer matched by several gets the first one only. A
    customer that already has an open follow-up of that policy gets nothing. Due = last contact (the later of the
    last interaction and the last completed follow-up; without either, the first order; without orders, the day
    the customer was created) + ``interval_days``, and never before ``today`` (a long-neglected customer is due
    today, not months overdue). Only customers with an active owner are planned; the owner is the assignee.
    Emits ``follow_up.created`` for each (in bulk).
    """
    interaction_model = apps.get_model("engagement", "Interaction")
    order_model = apps.get_model("commerce", "Order")
    base = Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False, owner__is_active=True)
    if customer_ids is not None:
        base = base.filter(pk__in=list(customer_ids))
    taken: set[int] = set()
    created = 0
    policies = CadencePolicy.objects.filter(
        active=True, kind=CadencePolicy.Kind.INTERVAL, interval_days__gt=0
    ).order_by("priority", "key")
    for policy in policies:
        customers = _customers_of(policy, base)
        if customers is None:
            continue
        open_task = FollowUp.objects.filter(customer=OuterRef("pk"), policy=policy, status=Status.OPEN)
        rows = (
            customers.annotate(
                has_open=Exists(open_task),
                last_interaction_at=Subquery(
                    interaction_model.objects.filter(customer=OuterRef("pk"))
                    .values("customer")
                    .annotate(at=Max("occurred_at"))
                    .values("at")[:1]
                ),
                last_done_at=Subquery(
                    FollowUp.objects.filter(customer=OuterRef("pk"), status=Status.DONE)
                    .values("customer")
                    .annotate(at=Max("completed_at"))
                    .values("at")[:1]
                ),
                first_order_at=Subquery(
                    order_model.objects.filter(customer=OuterRef("pk"))
                    .values("customer")
                    .annotate(at=Min("ordered_at"))
                    .values("at")[:1]
                ),
            )
            .values("pk", "owner_id", "created_at", "has_open", "last_interaction_at", "last_done_at", "first_order_at")
            .order_by("pk")
        )
        new: list[FollowUp] = []
        for row in rows.iterator(chunk_size=batch_size):
            if row["pk"] in taken:
                continue
            taken.add(row["pk"])
            if row["has_open"]:
                continue
            contacts = [at for at in (row["last_interaction_at"], row["last_done_at"]) if at is not None]
            anchor = max(contacts) if contacts else (row["first_order_at"] or row["created_at"])
            due_on = max(timezone.localdate(anchor) + timedelta(days=policy.interval_days), today)
            new.append(
                FollowUp(
                    customer_id=row["pk"],
                    assignee_id=row["owner_id"],
                    title=_cadence_title(policy),
                    due_on=due_on,
                    source=FollowUp.Source.CADENCE,
                    policy=policy,
                    rule_id=rule_id,
                    dedupe_key=f"cadence:{policy.key}",
                    created_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
            )
        for start in range(0, len(new), batch_size):
            batch = FollowUp.objects.bulk_create(new[start : start + batch_size])
            for follow_up in batch:
                follow_up.policy = policy
            events.record_many(
                "follow_up.created",
                [(f, _payload(f), events.diff({}, _fields(f))) for f in batch],
                actor=actor,
                audit_action="create",
            )
            created += len(batch)
    return created


# -------------------------------------------------------------------------------------------- complete


def _complete(follow_up: FollowUp, *, actor, interaction_id: int | None, note: str) -> FollowUp:
    before = _fields(follow_up)
    follow_up.status = Status.DONE
    follow_up.completed_at = timezone.now()
    follow_up.completed_by = actor if getattr(actor, "is_authenticated", False) else None
    follow_up.completion_note = note
    follow_up.interaction_id = interaction_id
    bump_version(follow_up)
    follow_up.save(
        update_fields=[
            "status",
            "completed_at",
            "completed_by",
            "completion_note",
            "interaction",
            "version",
            "updated_at",
        ]
    )
    events.record(
        "follow_up.completed",
        subject=follow_up,
        actor=actor,
        payload=_payload(follow_up, interaction_id=interaction_id),
        audit_action="update",
        changes=events.diff(before, _fields(follow_up)),
    )
    return follow_up


@transaction.atomic
def complete_follow_up(*, actor, follow_up_id: int, interaction_id: int | None = None, note: str = "") -> FollowUp:
    """Mark an open follow-up done, optionally with the interaction that did it (of the same customer).

    The assignee, or a manager or admin who sees it. Emits ``follow_up.completed``.
    """
    follow_up = _locked(actor, follow_up_id)
    if follow_up.status != Status.OPEN:
        raise FollowUpClosed(_("This follow-up is already closed."), status=follow_up.status)
    note = _clean_text(note, NOTE_LIMIT, "note")
    if interaction_id is not None:
        interaction_model = apps.get_model("engagement", "Interaction")
        if not interaction_model.objects.filter(pk=interaction_id, customer_id=follow_up.customer_id).exists():
            message = _("The interaction is not one of this customer's.")
            raise FollowUpInvalid(message, interaction_id=[message])
    return _complete(follow_up, actor=actor, interaction_id=interaction_id, note=note)


def on_interaction_logged(event) -> None:
    """``interaction.logged``, in the logging transaction: complete the follow-up the interaction was for.

    With ``follow_up_id`` in the payload: that follow-up, if it is open, of the same customer, and one the author
    may work on (otherwise nothing happens: the interaction stays logged). Without it: the author's earliest open
    follow-up of that customer due today or before, unless the interaction is an internal note.
    """
    payload = event.payload or {}
    customer_id, author_id = payload.get("customer_id"), payload.get("author_id")
    if not customer_id or not author_id or event.subject_type != "engagement.interaction":
        return
    author = User.objects.filter(pk=author_id, is_active=True).first()
    if author is None:
        return
    follow_ups = selectors.visible_follow_ups(author).filter(customer_id=customer_id, status=Status.OPEN)
    if payload.get("follow_up_id"):
        follow_ups = follow_ups.filter(pk=payload["follow_up_id"])
    else:
        if payload.get("channel") == "note" or payload.get("direction") == "internal":  # no contact
            return
        today = timezone.localdate()
        follow_ups = follow_ups.filter(assignee_id=author.pk, due_on__lte=today).order_by("due_on", "id")
    target = follow_ups.values_list("pk", flat=True).first()
    if target is None:
        return
    follow_up = FollowUp.objects.select_for_update(of=("self",)).select_related("policy").get(pk=target)
    if follow_up.status == Status.OPEN:
        _complete(follow_up, actor=author, interaction_id=event.subject_id, note="")


@transaction.atomic
def hand_over_follow_ups(*, customer_id: int, actor=None) -> int:
    """After a customer changed owner: give each open follow-up whose assignee can no longer see the customer to
    the new owner, or cancel it when the customer went back to the pool. Returns how many changed.

    Emits ``follow_up.updated`` (reason ``handed_over``) or ``follow_up.cancelled`` for each.
    """
    customer = Customer.objects.select_related("owner").filter(pk=customer_id).first()
    if customer is None:
        return 0
    sees: dict[int, bool] = {}
    changed = 0
    follow_ups = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("assignee", "policy")
        .filter(customer_id=customer_id, status=Status.OPEN)
    )
    for follow_up in follow_ups:
        assignee = follow_up.assignee
        if assignee.pk not in sees:
            sees[assignee.pk] = (
                assignee.is_active and access.visible_customers(assignee).filter(pk=customer_id).exists()
            )
        if sees[assignee.pk]:
            continue
        before = _fields(follow_up)
        owner = customer.owner if customer.owner_id and customer.owner.is_active else None
        if owner is not None:
            follow_up.assignee = owner
            event_type, extra = "follow_up.updated", {"reason": "handed_over", "changed": ["assignee_id"]}
        else:
            follow_up.status = Status.CANCELLED
            follow_up.completed_at = timezone.now()
            follow_up.completion_note = _("The customer went back to the pool.")
            event_type, extra = "follow_up.cancelled", {"reason": "returned_to_pool"}
        bump_version(follow_up)
        follow_up.save()
        events.record(
            event_type,
            subject=follow_up,
            actor=actor,
            payload=_payload(follow_up, **extra),
            audit_action="update",
            changes=events.diff(before, _fields(follow_up)),
        )
        changed += 1
    return changed


# ----------------------------------------------------------------------------------- update and cancel


@transaction.atomic
def update_follow_up(*, actor, follow_up_id: int, version: int | None, data: dict[str, Any]) -> FollowUp:
    """Change an open follow-up: title, note, due date, priority; ``assignee_id`` (managers within the owner's
    team, admins; reps cannot hand tasks to others; the customer is shared with an assignee who could not see it).
    A stale ``version`` is a 409. Emits ``follow_up.updated``.
    """
    follow_up = _locked(actor, follow_up_id)
    check_version(follow_up, version)
    if follow_up.status != Status.OPEN:
        raise FollowUpClosed(_("This follow-up is already closed."), status=follow_up.status)
    before = _fields(follow_up)
    unknown = set(data) - {"title", "note", "due_on", "priority", "assignee_id"}
    if unknown:
        raise FollowUpInvalid(_("These fields cannot be changed."), **{name: [_("Unknown field.")] for name in unknown})
    if "title" in data:
        follow_up.title = _clean_text(data["title"], TITLE_LIMIT, "title", required=True)
    if "note" in data:
        follow_up.note = _clean_text(data["note"] or "", NOTE_LIMIT, "note")
    if "due_on" in data:
        if not isinstance(data["due_on"], date):
            raise FollowUpInvalid(_("Enter a due date."), due_on=[_("Enter a valid date.")])
        follow_up.due_on = data["due_on"]
        follow_up.overdue_at = None
    if "priority" in data:
        if data["priority"] not in FollowUp.Priority.values:
            raise FollowUpInvalid(_("Unknown priority."), priority=[_("Choose normal or urgent.")])
        follow_up.priority = data["priority"]
    if "assignee_id" in data and data["assignee_id"] != follow_up.assignee_id:
        if not access.can_assign_owner(actor):
            raise FollowUpDenied(_("Only a manager of the team or an admin can reassign a follow-up."))
        if data["assignee_id"] is None:
            message = _("Choose who follows up.")
            raise FollowUpInvalid(message, assignee_id=[message])
        customer = Customer.objects.select_related("owner").get(pk=follow_up.customer_id)
        follow_up.assignee = _check_assignee(actor, customer, data["assignee_id"])
        _share_if_needed(actor, customer, follow_up.assignee)
    changes = events.diff(before, _fields(follow_up))
    if not changes:
        return follow_up
    bump_version(follow_up)
    follow_up.save()
    events.record(
        "follow_up.updated",
        subject=follow_up,
        actor=actor,
        payload=_payload(follow_up, changed=sorted(changes)),
        audit_action="update",
        changes=changes,
    )
    return follow_up


@transaction.atomic
def cancel_follow_up(*, actor, follow_up_id: int, note: str = "") -> FollowUp:
    """Cancel an open follow-up (nothing to do any more). Emits ``follow_up.cancelled``."""
    follow_up = _locked(actor, follow_up_id)
    if follow_up.status != Status.OPEN:
        raise FollowUpClosed(_("This follow-up is already closed."), status=follow_up.status)
    before = _fields(follow_up)
    follow_up.status = Status.CANCELLED
    follow_up.completed_at = timezone.now()
    follow_up.completed_by = actor
    follow_up.completion_note = _clean_text(note, NOTE_LIMIT, "note")
    bump_version(follow_up)
    follow_up.save()
    events.record(
        "follow_up.cancelled",
        subject=follow_up,
        actor=actor,
        payload=_payload(follow_up),
        audit_action="update",
        changes=events.diff(before, _fields(follow_up)),
    )
    return follow_up


# ------------------------------------------------------------------------------------------- policies


def _validate_policy(policy: CadencePolicy) -> None:
    errors: dict[str, list[str]] = {}
    if policy.kind == CadencePolicy.Kind.INTERVAL:
        if not policy.interval_days or not 1 <= policy.interval_days <= 3650:
            errors["interval_days"] = [_("An interval policy needs an interval between 1 and 3650 days.")]
    else:
        offsets = policy.offsets_days
        valid = isinstance(offsets, list) and offsets and all(isinstance(d, int) and 0 <= d <= 3650 for d in offsets)
        if not valid:
            errors["offsets_days"] = [_("List one or more whole numbers of days between 0 and 3650, e.g. 3, 14, 30.")]
        elif len(set(offsets)) != len(offsets):
            errors["offsets_days"] = [_("Each day may appear once.")]
    if policy.applies_to != CadencePolicy.AppliesTo.ALL and not policy.match_value:
        errors["match_value"] = [_("Say which tier, segment or stage the policy applies to.")]
    if errors:
        raise PolicyInvalid(_("The cadence policy is not valid."), **errors)


@transaction.atomic
def update_policy(*, actor, key: str, version: int | None, data: dict[str, Any]) -> CadencePolicy:
    """Change a cadence policy (managers and admins): interval, offsets, active, priority, names, match.

    Existing follow-ups keep their dates; the change applies from the next planning run. Emits
    ``cadence_policy.updated``.
    """
    if access.role_of(actor) not in (access.ADMIN, access.MANAGER):
        raise FollowUpDenied(_("Only managers and admins can change cadence policies."))
    policy = CadencePolicy.objects.select_for_update(of=("self",)).filter(key=key).first()
    if policy is None:
        selectors.get_policy(key)
    check_version(policy, version)
    editable = {"name", "name_zh_hans", "match_value", "interval_days", "offsets_days", "channel", "active", "priority"}
    unknown = set(data) - editable
    if unknown:
        raise PolicyInvalid(_("These fields cannot be changed."), **{name: [_("Unknown field.")] for name in unknown})
    fields = sorted(editable)
    before = events.snapshot(policy, fields)
    for name, value in data.items():
        setattr(policy, name, value)
    if not (policy.name or "").strip():
        raise PolicyInvalid(_("Enter a name."), name=[_("This field is required.")])
    _validate_policy(policy)
    changes = events.diff(before, events.snapshot(policy, fields))
    if not changes:
        return policy
    bump_version(policy)
    policy.save()
    events.record(
        "cadence_policy.updated",
        subject=policy,
        actor=actor,
        payload={"key": policy.key, "changed": sorted(changes)},
        audit_action="update",
        changes=changes,
    )
    return policy


# -------------------------------------------------------------------------------------- calendar feed


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def rotate_calendar_feed(*, actor) -> str:
    """Give ``actor`` a new secret calendar feed token (the old URL stops working); return the token.

    Only its SHA-256 is stored: the caller shows the token once. Emits ``calendar_feed.rotated`` (no token).
    """
    if access.role_of(actor) is None:
        raise FollowUpDenied(_("Log in first."))
    token = secrets.token_urlsafe(32)
    feed, created = CalendarFeed.objects.update_or_create(
        user=actor, defaults={"digest": feed_digest(token), "created_at": timezone.now(), "last_used_at": None}
    )
    events.record(
        "calendar_feed.rotated",
        subject=feed,
        actor=actor,
        payload={"user_id": actor.pk, "created": created},
        audit_action="create" if created else "update",
    )
    return token


@transaction.atomic
def touch_feed(feed: CalendarFeed) -> None:
    """Remember when a calendar app last fetched the feed (at most once an hour: no write per poll)."""
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(hours=1):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
