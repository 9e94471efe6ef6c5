"""Reactions to customer events, in the same transaction (core.events.subscribe)."""

from guanxi.core.models import AuditEntry, Event
from guanxi.customers.models import Customer
from guanxi.ownership import services
from guanxi.ownership.models import OwnershipChange


def on_customer_created(event: Event) -> None:
    """Start the ownership history; a new customer without an owner is auto-assigned by its team's rule."""
    customer = Customer.objects.filter(pk=event.subject_id).first()
    if customer is None:
        return
    OwnershipChange.objects.create(
        customer=customer,
        to_user_id=customer.owner_id,
        team_id=customer.team_id,
        reason=OwnershipChange.Reason.CREATED,
        actor=event.actor,
        at=event.occurred_at,
    )
    if customer.owner_id is None:
        services.auto_assign(customer)


def on_customer_updated(event: Event) -> None:
    """A manager who changes the owner on the customer form: record it in the history as an assignment."""
    if "owner_id" not in (event.payload or {}).get("fields", []):
        return
    audit = AuditEntry.objects.filter(event=event).values_list("changes", flat=True).first() or {}
    before, after = (audit.get("owner_id") or [None, None])[:2]
    team_id = Customer.objects.filter(pk=event.subject_id).values_list("team_id", flat=True).first()
    OwnershipChange.objects.create(
        customer_id=event.subject_id,
        from_user_id=before,
        to_user_id=after,
        team_id=team_id,
        reason=OwnershipChange.Reason.ASSIGNED if after else OwnershipChange.Reason.RELEASED,
        actor=event.actor,
        at=event.occurred_at,
    )
