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
