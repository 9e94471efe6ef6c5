"""Reactions to commerce events, in the placing (or refunding) transaction: earn on orders, reverse on refunds."""

from guanxi.core.models import Event
from guanxi.loyalty import services


def on_order_placed(event: Event) -> None:
    services.earn_for_order(event.subject_id)


def on_orders_placed(event: Event) -> None:
    services.earn_for_orders(event.payload.get("order_ids") or [])


def on_orders_placed_many(recorded: list[Event]) -> None:
    for event in recorded:
        on_orders_placed(event)


def on_order_refunded(event: Event) -> None:
    services.reverse_order(event.payload.get("order_id") or event.subject_id, actor=event.actor)


def on_customer_merged(event: Event) -> None:
    """The merge moved the loser's ledger onto the survivor (and removed its membership): rebuild the cache."""
    payload = event.payload or {}
    if payload.get("survivor_id") and payload.get("loser_id"):
        services.after_merge(payload["survivor_id"], payload.get("merge_id"))


def on_merge_undone(event: Event) -> None:
    """Undo moved the entries back and restored the loser's membership: rebuild the survivor's cache."""
    payload = event.payload or {}
    if event.subject_id == payload.get("survivor_id"):
        services.rebuild_balance(event.subject_id)
