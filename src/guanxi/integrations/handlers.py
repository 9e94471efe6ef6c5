"""Reactions to domain events: every recorded event goes to the webhook endpoints subscribed to its type."""

from guanxi.core.models import Event
from guanxi.integrations import services


def on_event(event: Event) -> None:
    services.queue_for_events([event])


def on_events(recorded: list[Event]) -> None:
    services.queue_for_events(recorded)
