"""The event types a rule may be triggered by. Apps that grow new customer events (tickets, surveys) add theirs
from ``AppConfig.ready()`` with ``register_trigger``."""

from django.utils.translation import gettext_lazy as _

from guanxi.automation.models import SCHEDULE_DAILY

_triggers: dict[str, object] = {
    "customer.created": _("Customer created"),
    "customer.updated": _("Customer updated (fields, tags)"),
    "customer.owner_changed": _("Owner changed"),
    "order.placed": _("Order placed"),
    "customer.stage_changed": _("Lifecycle stage changed"),
    "customer.tier_changed": _("Tier changed"),
    "customer.segment_changed": _("Segment changed"),
    "interaction.logged": _("Interaction logged"),
    "follow_up.created": _("Follow-up created"),
    "follow_up.completed": _("Follow-up completed"),
    "follow_up.overdue": _("Follow-up overdue"),
    SCHEDULE_DAILY: _("Every day (over the customers matching the condition)"),
}


def register_trigger(event_type: str, label) -> None:
    """Offer ``event_type`` as a trigger. Its events must have the customer as subject or carry ``customer_id``."""
    _triggers[event_type] = label


def choices() -> list[tuple[str, object]]:
    return list(_triggers.items())


def known(event_type: str) -> bool:
    return event_type in _triggers
