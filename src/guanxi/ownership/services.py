"""Every change of a customer's owner: the ownership use case of the customers domain lives here.

Only these functions write ``Customer.owner_id`` (besides ``customers.services`` at creation and a manager's
edit, which the handlers record in the history). Each one is a transaction that moves the owner with a
conditional UPDATE (``WHERE owner = <the owner we read>``) and checks the row count, so of two concurrent
claims of one pool customer exactly one wins; it records an ``OwnershipChange`` and emits
``customer.owner_changed`` with an audit entry ``{"owner_id": [old, new]}``, and bumps the customer's version.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guanxi.accounts.models import Team, User
from guanxi.core import access, events
from guanxi.customers.errors import CustomerNotFound
from guanxi.customers.models import Customer
from guanxi.notifications.services import notify
from guanxi.ownership.activity import with_last_activity
from guanxi.ownership.errors import (
    AlreadyClaimed,
    ClaimQuotaReached,
    CustomerProtected,
    HoldingCapReached,
    NotInPool,
    OwnerChanged,
    OwnershipDenied,
    OwnershipInvalid,
    TransferDecided,
    TransferNotFound,
    TransferPending,
)
from guanxi.ownership.models import OwnershipChange, PoolRule, ReleaseWarning, TransferRequest

Reason = OwnershipChange.Reason
OWNER_ROLES = (User.Role.SALES, User.Role.MANAGER)


# ----------------------------------------------------------------------------------------------- helpers


def rule_for(team_id: int | None) -> PoolRule:
    """The team's rule, or an unsaved one with the defaults (no auto-assignment, no auto-release)."""
    rule = PoolRule.objects.filter(team_id=team_id).first() if team_id else None
    return rule or PoolRule(team_id=team_id)


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the server's time zone (quotas are per local day)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def claims_on(user, day: date) -> int:
    start = day_start(day)
    return OwnershipChange.objects.filter(
        to_user=user, reason=Reason.CLAIMED, at__gte=start, at__lt=start + timedelta(days=1)
    ).count()


def holdings(user) -> int:
    return Customer.objects.filter(owner=user, deleted_at__isnull=True).count()


def protected_until(customer: Customer, rule: PoolRule | None = None) -> datetime | None:
    """When the current owner's protection after claiming the customer ends (None: not protected)."""
    if customer.owner_id is None:
        return None
    rule = rule or rule_for(customer.team_id)
    if not rule.protection_days:
        return None
    last = (
        OwnershipChange.objects.filter(customer_id=customer.pk)
        .order_by("-at", "-id")
        .values("to_user_id", "reason", "at")
        .first()
    )
    if not last or last["reason"] != Reason.CLAIMED or last["to_user_id"] != customer.owner_id:
        return None
    until = last["at"] + timedelta(days=rule.protection_days)
    return until if until > timezone.now() else None


def _user_name(user_id: int | None) -> str:
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return str(user) if user else _("someone else")


def _customer_link(customer_id: int) -> str:
    return f"/customers/{customer_id}/"


def _move_owner(
    customer_id: int,
    *,
    expected_owner_id: int | None,
    new_owner: User | None,
    team_id: int | None,
    reason: str,
    actor: User | None,
    note: str = "",
) -> Customer | None:
    """Move the owner from ``expected_owner_id`` to ``new_owner`` if nobody moved it first; None if someone did.

    The conditional UPDATE is the arbiter: on PostgreSQL a second writer waits for the first one's row lock and
    then re-checks the WHERE clause against the committed row; on SQLite writers are serialised (IMMEDIATE).
    """
    match = Q(pk=customer_id, deleted_at__isnull=True)
    match &= Q(owner__isnull=True) if expected_owner_id is None else Q(owner_id=expected_owner_id)
    before = Customer.objects.filter(match).values("team_id").first()
    if before is None:
        return None
    now = timezone.now()
    updated = Customer.objects.filter(match).update(
        owner=new_owner, team_id=team_id, version=F("version") + 1, updated_at=now
    )
    if updated != 1:
        return None
    customer = Customer.objects.select_related("owner", "team").get(pk=customer_id)
    new_owner_id = new_owner.pk if new_owner else None
    OwnershipChange.objects.create(
        customer=customer,
        from_user_id=expected_owner_id,
        to_user=new_owner,
        team_id=team_id,
        reason=reason,
        note=note[:300],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=now,
    )
    changes: dict[str, Any] = {"owner_id": [expected_owner_id, new_owner_id]}
    if before["team_id"] != team_id:
        changes["team_id"] = [before["team_id"], team_id]
    events.record(
        "customer.owner_changed",
        subject=customer,
        actor=actor,
        payload={
            "from_user_id": expected_owner_id,
            "to_user_id": new_owner_id,
            "team_id": team_id,
            "reason": reason,
            "version": customer.version,
        },
        audit_action="update",
        changes=changes,
    )
    return customer


def _cancel_pending_transfers(customer_id: int, actor: User | None, why: str) -> None:
    for request in TransferRequest.objects.select_for_update().filter(
        customer_id=customer_id, status=TransferRequest.Status.PENDING
    ):
        request.status = TransferRequest.Status.CANCELLED
        request.decided_at = timezone.now()
        request.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        request.decision_note = why[:500]
        request.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        events.record(
            "ownership.transfer_cancelled",
            subject=request,
            actor=actor,
            payload={"customer_id": customer_id},
            audit_action="update",
            changes={"status": [TransferRequest.Status.PENDING, TransferRequest.Status.CANCELLED]},
        )


def _lock_user(user: User) -> None:
    """Serialise one user's claims, so that two claims at once cannot both slip under the quota or the cap."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def _raise_taken_or_missing(actor: User, customer_id: int) -> None:
    """Explain a failed claim: someone in the same pool got it first (409), or there is no such pool customer."""
    team_ids = access.pool_team_ids(actor)
    taken = Customer.objects.filter(pk=customer_id, deleted_at__isnull=True, owner__isnull=False)
    if team_ids is not None:
        taken = taken.filter(team_id__in=team_ids)
    owner_id = taken.values_list("owner_id", flat=True).first()
    if owner_id is not None:
        name = _user_name(owner_id)
        raise AlreadyClaimed(_("%(name)s claimed it first.") % {"name": name}, owner=name)
    raise NotInPool(_("Customer %(id)s is not in your team's pool.") % {"id": customer_id})


# ----------------------------------------------------------------------------------------------- claim/release


@transaction.atomic
def claim_customer(*, actor: User, customer_id: int) -> Customer:
    """Take a customer from a pool the actor may claim from (``access.pool_customers``).

    Refused when someone else got it first (AlreadyClaimed, 409, naming the winner), when the actor reached the
    team's daily claim quota or holding cap (409), or when the customer is not in the actor's pools (404).
    The claim starts the team's protection period. Emits ``customer.owner_changed``.
    """
    if access.role_of(actor) not in OWNER_ROLES:
        raise OwnershipDenied(_("Only sales reps and managers can claim customers."))
    _lock_user(actor)
    customer = access.pool_customers(actor).filter(pk=customer_id).values("pk", "team_id").first()
    if customer is None:
        _raise_taken_or_missing(actor, customer_id)
    rule = rule_for(customer["team_id"])
    if rule.daily_claim_quota is not None:
        claimed = claims_on(actor, timezone.localdate())
        if claimed >= rule.daily_claim_quota:
            raise ClaimQuotaReached(
                _("You have reached your daily claim quota (%(quota)s). Try again tomorrow.")
                % {"quota": rule.daily_claim_quota},
                quota=rule.daily_claim_quota,
                claimed_today=claimed,
            )
    if rule.holding_cap is not None:
        held = holdings(actor)
        if held >= rule.holding_cap:
            raise HoldingCapReached(
                _("You already hold %(held)s customers, your team's cap is %(cap)s. Release one first.")
                % {"held": held, "cap": rule.holding_cap},
                cap=rule.holding_cap,
                held=held,
            )
    claimed_customer = _move_owner(
        customer_id,
        expected_owner_id=None,
        new_owner=actor,
        team_id=customer["team_id"],
        reason=Reason.CLAIMED,
        actor=actor,
    )
    if claimed_customer is None:
        _raise_taken_or_missing(actor, customer_id)
    return claimed_customer


@transaction.atomic
def release_customer(*, actor: User, customer_id: int, note: str = "") -> Customer:
    """Give a customer back to its team's pool: its owner, a manager of its team, or an admin.

    Cancels pending transfer requests. Emits ``customer.owner_changed``.
    """
    customer = access.visible_customers(actor).filter(pk=customer_id).select_related("owner").first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    if customer.owner_id is None:
        raise OwnerChanged(_("This customer is already in the pool."))
    managed = access.managed_team_ids(actor)
    if actor.pk != customer.owner_id and not (managed is None or customer.team_id in managed):
        raise OwnershipDenied(_("Only the owner or a manager of the team can release this customer."))
    team_id = customer.team_id or customer.owner.team_id
    if team_id is None:
        raise OwnershipInvalid(
            _("This customer has no team, so there is no pool to return it to. Ask a manager to assign it."),
            team_id=[_("No team.")],
        )
    released = _move_owner(
        customer_id,
        expected_owner_id=customer.owner_id,
        new_owner=None,
        team_id=team_id,
        reason=Reason.RELEASED,
        actor=actor,
        note=note,
    )
    if released is None:
        raise OwnerChanged(_("Someone changed this customer's owner meanwhile. Reload and try again."))
    _cancel_pending_transfers(customer_id, actor, _("The customer went back to the pool."))
    if customer.owner_id != actor.pk:
        notify(
            customer.owner,
            "ownership.released",
            gettext_noop("%(actor)s returned %(customer)s to the pool."),
            _customer_link(customer_id),
            params={"actor": actor, "customer": released},
        )
    return released


@transaction.atomic
def assign_customer(*, actor: User, customer_id: int, user_id: int, note: str = "") -> Customer:
    """A manager (within the teams they lead) or an admin makes ``user_id`` the owner; the team follows the
    new owner's team. Cancels pending transfer requests; notifies the new owner. Emits
    ``customer.owner_changed``."""
    if not access.can_assign_owner(actor):
        raise OwnershipDenied(_("Only managers and admins assign customers; ask for a transfer instead."))
    customer = access.visible_customers(actor).filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    owner = User.objects.filter(pk=user_id, is_active=True, role__in=OWNER_ROLES).first()
    if owner is None:
        raise OwnershipInvalid(_("Choose an active sales rep or manager."), user_id=[_("No such active rep.")])
    managed = access.managed_team_ids(actor)
    if managed is not None:
        if customer.team_id not in managed:
            raise OwnershipDenied(_("You can only assign customers of the teams you lead."))
        if owner.pk != actor.pk and owner.team_id not in managed:
            raise OwnershipDenied(_("You can only assign customers within the teams you lead."))
    if owner.pk == customer.owner_id:
        return customer
    assigned = _move_owner(
        customer_id,
        expected_owner_id=customer.owner_id,
        new_owner=owner,
        team_id=owner.team_id or customer.team_id,
        reason=Reason.ASSIGNED,
        actor=actor,
        note=note,
    )
    if assigned is None:
        raise OwnerChanged(_("Someone changed this customer's owner meanwhile. Reload and try again."))
    _cancel_pending_transfers(customer_id, actor, _("The customer was assigned by a manager."))
    if owner.pk != actor.pk:
        notify(
            owner,
            "ownership.assigned",
            gettext_noop("%(actor)s assigned %(customer)s to you."),
            _customer_link(customer_id),
            params={"actor": actor, "customer": assigned},
        )
    return assigned


# ----------------------------------------------------------------------------------------------- auto-assignment


def _territory_owner(rule: PoolRule, customer: Customer, candidates: dict[int, User]) -> User | None:
    for entry in rule.territories or []:
        if not isinstance(entry, dict):
            continue
        region, industry = entry.get("region") or "", entry.get("industry") or ""
        if region and region != customer.region:
            continue
        if industry and industry != customer.industry:
            continue
        owner = candidates.get(entry.get("user_id"))
        if owner is not None:
            return owner
    return None


@transaction.atomic
def auto_assign(customer: Customer) -> Customer | None:
    """Give a new pool customer an owner by its team's rule (round robin, least loaded, territory).

    Only reps of the team are candidates, and none at the holding cap. Returns None (the customer stays in the
    pool) when the rule says none, or nobody fits. Runs inside ``create_customer``'s transaction.
    """
    if customer.owner_id is not None or customer.team_id is None:
        return None
    rule = PoolRule.objects.select_for_update().filter(team_id=customer.team_id).first()
    if rule is None or rule.assignment == PoolRule.Assignment.NONE:
        return None
    reps = (
        User.objects.filter(team_id=customer.team_id, role=User.Role.SALES, is_active=True)
        .annotate(held=Count("owned_customers", filter=Q(owned_customers__deleted_at__isnull=True)))
        .order_by("pk")
    )
    candidates = [rep for rep in reps if rule.holding_cap is None or rep.held < rule.holding_cap]
    owner = None
    if candidates and rule.assignment == PoolRule.Assignment.ROUND_ROBIN:
        last = rule.last_assigned_to_id or 0
        owner = next((rep for rep in candidates if rep.pk > last), candidates[0])
    elif candidates and rule.assignment == PoolRule.Assignment.LEAST_LOADED:
        owner = min(candidates, key=lambda rep: (rep.held, rep.pk))
    elif candidates and rule.assignment == PoolRule.Assignment.TERRITORY:
        owner = _territory_owner(rule, customer, {rep.pk: rep for rep in candidates})
    if owner is None:
        return None
    assigned = _move_owner(
        customer.pk,
        expected_owner_id=None,
        new_owner=owner,
        team_id=customer.team_id,
        reason=Reason.ASSIGNED,
        actor=None,
        note=f"auto: {rule.assignment}",
    )
    if assigned is None:
        return None
    PoolRule.objects.filter(pk=rule.pk).update(last_assigned_to=owner)
    notify(
        owner,
        "ownership.assigned",
        gettext_noop("%(customer)s was assigned to you automatically."),
        _customer_link(customer.pk),
        params={"customer": assigned},
    )
    return assigned


# ----------------------------------------------------------------------------------------------- transfers


def _team_managers(team_id: int | None) -> list[User]:
    managers = list(Team.objects.get(pk=team_id).managers.filter(is_active=True)) if team_id else []
    return managers or list(User.objects.filter(is_active=True).filter(Q(role=User.Role.ADMIN) | Q(is_superuser=True)))


def _decidable(actor: User, request_id: int) -> TransferRequest:
    """The pending-or-not request, locked, if ``actor`` manages its customer's team; otherwise not found."""
    request = (
        TransferRequest.objects.select_for_update().filter(pk=request_id, customer__deleted_at__isnull=True).first()
    )
    managed = access.managed_team_ids(actor)
    if request is None or access.role_of(actor) not in (access.ADMIN, access.MANAGER):
        request = None
    elif managed is not None:
        team_id = Customer.objects.filter(pk=request.customer_id).values_list("team_id", flat=True).first()
        if team_id not in managed:
            request = None
    if request is None:
        raise TransferNotFound(_("No transfer request with id %(id)s awaits your decision.") % {"id": request_id})
    return request


def _ensure_pending(request: TransferRequest) -> None:
    if request.status != TransferRequest.Status.PENDING:
        raise TransferDecided(
            _("This request was already %(status)s.") % {"status": request.get_status_display()},
            status=request.status,
        )


@transaction.atomic
def request_transfer(*, actor: User, customer_id: int, to_user_id: int, reason: str = "") -> TransferRequest:
    """Ask a manager to move a customer to another rep.

    The owner may propose any active rep or manager; anyone else who can see the customer may ask for it for
    themselves (managers may propose anyone). One pending request per customer. During the protection period
    after a claim only the owner may ask. Notifies the team's managers (or the admins when it has none).
    """
    customer = access.visible_customers(actor).select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    if access.role_of(actor) not in (*OWNER_ROLES, access.ADMIN):
        raise OwnershipDenied(_("Your role cannot request transfers."))
    if customer.owner_id is None:
        raise OwnershipInvalid(_("This customer is in the pool: claim it instead."), customer_id=[_("In the pool.")])
    to_user = User.objects.filter(pk=to_user_id, is_active=True, role__in=OWNER_ROLES).first()
    if to_user is None:
        raise OwnershipInvalid(_("Choose an active sales rep or manager."), to_user_id=[_("No such active rep.")])
    if to_user.pk == customer.owner_id:
        raise OwnershipInvalid(_("This rep already owns the customer."), to_user_id=[_("Already the owner.")])
    is_owner = actor.pk == customer.owner_id
    if not (is_owner or to_user.pk == actor.pk or access.can_assign_owner(actor)):
        raise OwnershipDenied(_("Only the owner can propose another rep; you may ask for the customer yourself."))
    if not is_owner:
        until = protected_until(customer)
        if until is not None:
            raise CustomerProtected(
                _("This customer was just claimed and is protected until %(until)s.")
                % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
                protected_until=until.isoformat(),
            )
    if TransferRequest.objects.filter(customer_id=customer_id, status=TransferRequest.Status.PENDING).exists():
        raise TransferPending(_("A transfer of this customer is already waiting for a manager."))
    request = TransferRequest.objects.create(
        customer=customer,
        from_user_id=customer.owner_id,
        to_user=to_user,
        requested_by=actor,
        reason=reason.strip()[:500],
    )
    events.record(
        "ownership.transfer_requested",
        subject=request,
        actor=actor,
        payload={"customer_id": customer_id, "from_user_id": customer.owner_id, "to_user_id": to_user.pk},
        audit_action="create",
        changes={
            "customer_id": [None, customer_id],
            "from_user_id": [None, customer.owner_id],
            "to_user_id": [None, to_user.pk],
        },
    )
    message = gettext_noop("%(actor)s asks to transfer %(customer)s from %(from)s to %(to)s.")
    params = {"actor": actor, "customer": customer, "from": _user_name(customer.owner_id), "to": to_user}
    for manager in _team_managers(customer.team_id):
        if manager.pk != actor.pk:
            notify(manager, "ownership.transfer_requested", message, "/ownership/transfers/", params=params)
    return request


def _decide(request: TransferRequest, actor: User, status: str, note: str) -> None:
    before = request.status
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note.strip()[:500]
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    events.record(
        f"ownership.transfer_{status}",
        subject=request,
        actor=actor,
        payload={"customer_id": request.customer_id, "to_user_id": request.to_user_id},
        audit_action="update",
        changes={"status": [before, status]},
    )


def _tell_parties(request: TransferRequest, actor: User, message: str, params: dict) -> None:
    ids = {request.requested_by_id, request.from_user_id, request.to_user_id} - {None, actor.pk}
    for user in User.objects.filter(pk__in=ids):
        link = _customer_link(request.customer_id)
        notify(user, f"ownership.transfer_{request.status}", message, link, params=params)


@transaction.atomic
def approve_transfer(*, actor: User, request_id: int, note: str = "") -> TransferRequest:
    """A manager of the customer's team (or an admin) approves: the owner moves, the team follows the new owner.

    Refused if the request was already decided, or the owner changed since it was made (OwnerChanged).
    Notifies the requester and both reps. Emits ``ownership.transfer_approved`` and ``customer.owner_changed``.
    """
    request = _decidable(actor, request_id)
    _ensure_pending(request)
    to_user = User.objects.filter(pk=request.to_user_id, is_active=True).first()
    if to_user is None:
        raise OwnershipInvalid(_("The receiving rep is no longer active; reject the request."))
    customer = Customer.objects.filter(pk=request.customer_id).values("team_id", "owner_id").first()
    if customer["owner_id"] != request.from_user_id:
        raise OwnerChanged(_("The customer's owner changed since this request was made; reject it."))
    moved = _move_owner(
        request.customer_id,
        expected_owner_id=request.from_user_id,
        new_owner=to_user,
        team_id=to_user.team_id or customer["team_id"],
        reason=Reason.TRANSFERRED,
        actor=actor,
        note=request.reason,
    )
    if moved is None:
        raise OwnerChanged(_("The customer's owner changed since this request was made; reject it."))
    _decide(request, actor, TransferRequest.Status.APPROVED, note)
    _tell_parties(
        request,
        actor,
        gettext_noop("%(actor)s approved the transfer of %(customer)s to %(to)s."),
        {"actor": actor, "customer": moved, "to": to_user},
    )
    return request


@transaction.atomic
def reject_transfer(*, actor: User, request_id: int, note: str = "") -> TransferRequest:
    """A manager of the customer's team (or an admin) rejects; the owner stays. Notifies the requester."""
    request = _decidable(actor, request_id)
    _ensure_pending(request)
    _decide(request, actor, TransferRequest.Status.REJECTED, note)
    customer = Customer.objects.get(pk=request.customer_id)
    _tell_parties(
        request,
        actor,
        gettext_noop("%(actor)s rejected the transfer of %(customer)s."),
        {"actor": actor, "customer": customer},
    )
    return request


@transaction.atomic
def cancel_transfer(*, actor: User, request_id: int) -> TransferRequest:
    """The requester withdraws a pending request."""
    request = TransferRequest.objects.select_for_update().filter(pk=request_id, requested_by=actor).first()
    if request is None:
        raise TransferNotFound(_("No transfer request with id %(id)s of yours.") % {"id": request_id})
    _ensure_pending(request)
    _decide(request, actor, TransferRequest.Status.CANCELLED, "")
    return request


# ----------------------------------------------------------------------------------------------- rules


RULE_FIELDS = (
    "assignment",
    "territories",
    "daily_claim_quota",
    "holding_cap",
    "release_after_days",
    "warning_days",
    "protection_days",
)


def _clean_rule(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name not in RULE_FIELDS:
            errors[name] = [_("Unknown field.")]
        elif name == "assignment":
            if value not in PoolRule.Assignment.values:
                errors[name] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(PoolRule.Assignment.values)}]
            else:
                clean[name] = value
        elif name == "territories":
            try:
                clean[name] = _clean_territories(value)
            except ValueError as exc:
                errors[name] = [str(exc)]
        else:
            nullable = name in ("daily_claim_quota", "holding_cap", "release_after_days")
            if value is None and nullable:
                clean[name] = None
            elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
                errors[name] = [_("A whole number from 0 to 100000.")]
            else:
                clean[name] = value
    if errors:
        raise OwnershipInvalid(_("The pool rule is not valid."), **errors)
    return clean


def _clean_territories(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 500:
        raise ValueError(_("A list of at most 500 territories."))
    clean = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) - {"region", "industry", "user_id"}:
            raise ValueError(_("Each territory has a region, an industry and a user_id."))
        region, industry, user_id = entry.get("region") or "", entry.get("industry") or "", entry.get("user_id")
        if not isinstance(region, str) or not isinstance(industry, str) or len(region) > 100 or len(industry) > 100:
            raise ValueError(_("Region and industry are text of at most 100 characters."))
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise ValueError(_("Each territory needs the id of a rep."))
        clean.append({"region": region.strip(), "industry": industry.strip(), "user_id": user_id})
    return clean


@transaction.atomic
def update_pool_rule(*, actor: User, team_id: int, version: int | None, data: dict[str, Any]) -> PoolRule:
    """Change a team's pool rule: a manager who leads the team, or an admin. ``version`` guards concurrent edits
    (a rule not saved yet has version 1). Territory reps must belong to the team. Emits
    ``ownership.rule_updated``."""
    from guanxi.core.locking import check_version

    managed = access.managed_team_ids(actor)
    if access.role_of(actor) not in (access.ADMIN, access.MANAGER) or (managed is not None and team_id not in managed):
        raise OwnershipDenied(_("Only a manager of this team or an admin can change its pool rules."))
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise OwnershipInvalid(_("No such team."), team_id=[_("No such team.")])
    rule, _created = PoolRule.objects.select_for_update().get_or_create(team=team)
    check_version(rule, version)
    clean = _clean_rule(data)
    members = set(User.objects.filter(team=team, is_active=True).values_list("pk", flat=True))
    strangers = [t["user_id"] for t in clean.get("territories", []) if t["user_id"] not in members]
    if strangers:
        raise OwnershipInvalid(
            _("The pool rule is not valid."), territories=[_("Territory reps must be active members of the team.")]
        )
    before = events.snapshot(rule, RULE_FIELDS)
    for name, value in clean.items():
        setattr(rule, name, value)
    changes = events.diff(before, events.snapshot(rule, RULE_FIELDS))
    if not changes:
        return rule
    rule.version += 1
    rule.save()
    events.record(
        "ownership.rule_updated",
        subject=rule,
        actor=actor,
        payload={"team_id": team_id, "fields": sorted(changes)},
        audit_action="update",
        changes=changes,
    )
    return rule


# ----------------------------------------------------------------------------------------------- auto-release


@dataclass
class ReleaseSummary:
    today: date
    checked: int = 0
    released: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)


def _idle_since(customer: Customer) -> date:
    return timezone.localdate(customer.last_activity_at)


@transaction.atomic
def _release_if_idle(customer_id: int, owner_id: int, rule: PoolRule, today: date) -> bool:
    """Re-check one customer inside its own transaction and release it (the scan may be minutes old)."""
    customer = (
        with_last_activity(Customer.objects.filter(pk=customer_id, owner_id=owner_id, deleted_at__isnull=True))
        .select_related("owner")
        .first()
    )
    if customer is None or today < _idle_since(customer) + timedelta(days=rule.release_after_days):
        return False
    if protected_until(customer, rule) is not None:
        return False
    released = _move_owner(
        customer_id,
        expected_owner_id=owner_id,
        new_owner=None,
        team_id=customer.team_id,
        reason=Reason.AUTO_RELEASED,
        actor=None,
        note=_("No activity for %(days)s days.") % {"days": rule.release_after_days},
    )
    if released is None:
        return False
    _cancel_pending_transfers(customer_id, None, _("The customer went back to the pool."))
    notify(
        customer.owner,
        "ownership.auto_released",
        gettext_noop("%(customer)s went back to the pool after %(days)s days without activity."),
        _customer_link(customer_id),
        params={"customer": released, "days": rule.release_after_days},
    )
    return True


@transaction.atomic
def _warn_once(customer: Customer, release_on: date) -> bool:
    _warning, created = ReleaseWarning.objects.get_or_create(
        customer_id=customer.pk,
        owner_id=customer.owner_id,
        last_activity_at=customer.last_activity_at,
        defaults={"release_on": release_on},
    )
    if not created:
        return False
    events.record(
        "ownership.release_warned",
        subject=customer,
        payload={"owner_id": customer.owner_id, "release_on": release_on},
    )
    notify(
        customer.owner,
        "ownership.release_warning",
        gettext_noop("%(customer)s goes back to the pool on %(day)s unless there is a follow-up or an order."),
        _customer_link(customer.pk),
        params={"customer": customer, "day": release_on.isoformat()},
    )
    return True


def release_idle_customers(today: date | None = None) -> ReleaseSummary:
    """The daily job: warn owners ``warning_days`` before, then return idle customers to their team's pool.

    Idle = no activity (``ownership.activity``) for ``release_after_days`` local days. Customers in their
    protection period stay. Idempotent: a second run the same day releases nothing new and warns nobody twice
    (one warning per idle spell). Each customer is its own transaction, so one failure does not undo the rest.
    """
    today = today or timezone.localdate()
    summary = ReleaseSummary(today=today)
    for rule in PoolRule.objects.filter(release_after_days__isnull=False).select_related("team"):
        days = rule.release_after_days
        warn_after = max(days - rule.warning_days, 0)
        # Idle for at least ``warn_after`` days: last activity before the start of (today - warn_after + 1).
        cutoff = day_start(today - timedelta(days=warn_after - 1))
        candidates = with_last_activity(
            Customer.objects.filter(team=rule.team, owner__isnull=False, deleted_at__isnull=True)
        ).filter(last_activity_at__lt=cutoff)
        for customer in list(candidates.select_related("owner").order_by("pk")):
            summary.checked += 1
            release_on = _idle_since(customer) + timedelta(days=days)
            if today >= release_on:
                if _release_if_idle(customer.pk, customer.owner_id, rule, today):
                    summary.released.append(customer.pk)
            elif _warn_once(customer, release_on):
                summary.warned.append(customer.pk)
    return summary
