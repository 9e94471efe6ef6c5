"""Reactions to other apps' events, inside the transaction that recorded them."""

from guanxi.followups import services


def on_owner_changed(event) -> None:
    """``customer.owner_changed`` (claims, releases, transfers, assignments): hand the open follow-ups over."""
    if event.subject_type == "customers.customer":
        services.hand_over_follow_ups(customer_id=event.subject_id, actor=event.actor)


def on_customer_updated(event) -> None:
    """A manager's edit of the owner on the customer form."""
    if event.subject_type == "customers.customer" and "owner_id" in (event.payload or {}).get("fields", []):
        services.hand_over_follow_ups(customer_id=event.subject_id, actor=event.actor)
