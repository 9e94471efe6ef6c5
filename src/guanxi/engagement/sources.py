"""The timeline sources this app registers: interactions, orders (commerce) and ownership changes (read-only)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.commerce.models import Order
from guanxi.core import access
from guanxi.engagement.models import Interaction
from guanxi.engagement.timeline import TimelineItem, TimelineSource, register_source
from guanxi.ownership.models import OwnershipChange

CHANNEL_ICONS = {
    Interaction.Channel.PHONE: "📞",
    Interaction.Channel.EMAIL: "✉️",
    Interaction.Channel.SMS: "💬",
    Interaction.Channel.WECHAT: "🟢",
    Interaction.Channel.SOCIAL: "🌐",
    Interaction.Channel.MEETING: "🤝",
    Interaction.Channel.VISIT: "🚗",
    Interaction.Channel.CHAT: "🗨️",
    Interaction.Channel.NOTE: "📝",
}


def _older(rows, field: str, before):
    return rows.filter(**{f"{field}__lt": before}) if before is not None else rows


def interaction_item(interaction: Interaction) -> TimelineItem:
    channel = interaction.get_channel_display()
    title = f"{channel}: {interaction.subject}" if interaction.subject else str(channel)
    return TimelineItem(
        at=interaction.occurred_at,
        kind="interactions",
        title=title,
        body=interaction.body,
        actor=interaction.author.get_username() if interaction.author_id else "",
        icon=CHANNEL_ICONS.get(interaction.channel, ""),
        extra={"interaction": interaction},
    )


def interactions(user, customer, *, before, limit):
    """Interactions hold what was said: only for users who may see personal data."""
    if not access.can_see_personal_data(user):
        return []
    rows = _older(Interaction.objects.filter(customer=customer), "occurred_at", before)
    rows = rows.select_related("author").prefetch_related("attachments").order_by("-occurred_at", "-id")
    return [interaction_item(i) for i in rows[:limit]]


def orders(user, customer, *, before, limit):
    rows = _older(Order.objects.filter(customer=customer), "ordered_at", before).order_by("-ordered_at", "-id")
    return [
        TimelineItem(
            at=order.ordered_at,
            kind="orders",
            title=_("Order %(number)s") % {"number": order.external_id},
            body=f"{order.amount:,.2f} {order.currency}",
            icon="🛒",
        )
        for order in rows[:limit]
    ]


def ownership_changes(user, customer, *, before, limit):
    if not access.can_view_audit(user):
        return []
    rows = _older(OwnershipChange.objects.filter(customer=customer), "at", before)
    rows = rows.select_related("from_user", "to_user", "actor").order_by("-at", "-id")
    pool = _("Team pool")
    return [
        TimelineItem(
            at=change.at,
            kind="ownership",
            title=str(change.get_reason_display()).capitalize(),
            body=f"{change.from_user or pool} → {change.to_user or pool}"
            + (f" — {change.note}" if change.note else ""),
            actor=change.actor.get_username() if change.actor_id else "",
            icon="👤",
        )
        for change in rows[:limit]
    ]


def register() -> None:
    register_source(TimelineSource("interactions", gettext_lazy("Interactions"), interactions))
    register_source(TimelineSource("orders", gettext_lazy("Orders"), orders))
    register_source(TimelineSource("ownership", gettext_lazy("Ownership"), ownership_changes))
