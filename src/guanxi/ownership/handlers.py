"""Reactions to customer events, in the same transaction (core.events.subscribe)."""

from guanxi.core.models import AuditEntry, Event
from guanxi.customers.models import Customer
from guanxi.ownership import services
from guanxi.ownership.models import OwnershipChange

Reason = OwnershipChange.Reason


def on_customer_created(event: Event) -> None:
    """Start the ownership history; a new customer without an owner is auto-assigned by its team's rule."""
    customer = Customer.objects.filter(pk=event.subject_id).first()
    if customer is None:
        return
    OwnershipChange.objects.create(
        customer=customer,
        to_user_id=customer.owner_id,
        team_id=customer.team_id,
        reason=Reason.CREATED,
        actor=event.actor,
        at=event.occurred_at,
    )
    if customer.owner_id is None:
        services.auto_assign(customer)


def on_customers_created(events: list[Event]) -> None:
    """The batch form of ``on_customer_created`` (``customers.services.create_customers``): the same history rows
    in one insert, then the auto-assignment of the pool customers, one by one in event order."""
    ids = [e.subject_id for e in events]
    found: dict[int, tuple[int | None, int | None]] = {}
    for start in range(0, len(ids), 500):
        rows = Customer.objects.filter(pk__in=ids[start : start + 500]).values_list("pk", "owner_id", "team_id")
        found.update((pk, (owner_id, team_id)) for pk, owner_id, team_id in rows)
    created = [(e, *found[e.subject_id]) for e in events if e.subject_id in found]
    OwnershipChange.objects.bulk_create(
        [
            OwnershipChange(
                customer_id=event.subject_id,
                to_user_id=owner_id,
                team_id=team_id,
                reason=Reason.CREATED,
                actor=event.actor,
                at=event.occurred_at,
            )
            for event, owner_id, team_id in created
        ]
    )
    pool = [event.subject_id for event, owner_id, _team_id in created if owner_id is None]
    if pool:
        pool_customers = Customer.objects.in_bulk(pool)
        for pk in pool:
            services.auto_assign(pool_customers[pk])


def _catch_up(event: Event, reason: str | None = None, note: str = "") -> None:
    """Record an owner change made outside our services (a manager's edit on the customer form, a merge or its
    undo): compare the stored owner with the last one in the history."""
    customer = Customer.objects.filter(pk=event.subject_id).values("owner_id", "team_id").first()
    if customer is None:
        return
    last = OwnershipChange.objects.filter(customer_id=event.subject_id).order_by("-at", "-id").first()
    if last is not None:
        before = last.to_user_id
    else:  # a customer older than the ownership app: its audit entry knows the previous owner
        changes = AuditEntry.objects.filter(event=event).values_list("changes", flat=True).first() or {}
        before = (changes.get("owner_id") or [None])[0]
    if last is not None and before == customer["owner_id"]:
        return
    if reason is None:
        reason = Reason.ASSIGNED if customer["owner_id"] else Reason.RELEASED
    OwnershipChange.objects.create(
        customer_id=event.subject_id,
        from_user_id=before,
        to_user_id=customer["owner_id"],
        team_id=customer["team_id"],
        reason=reason,
        note=note,
        actor=event.actor,
        at=event.occurred_at,
    )


def on_customer_updated(event: Event) -> None:
    if "owner_id" in (event.payload or {}).get("fields", []):
        _catch_up(event)


def on_customer_merged(event: Event) -> None:
    _catch_up(event, Reason.MERGED, note=f"merge #{(event.payload or {}).get('merge_id', '')}")
