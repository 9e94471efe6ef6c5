"""What loyalty adds to the customer page (customers.panels) and to the customer timeline (engagement)."""

import uuid

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import access
from guanxi.engagement.timeline import TimelineItem
from guanxi.loyalty import selectors
from guanxi.loyalty.models import PointsEntry, TierChange


def customer_membership(request, customer):
    """Tier badge, balance, progress to the next tier, recent entries, and the redeem/adjust forms."""
    user = request.user
    if access.role_of(user) is None:
        return None
    summary = selectors.member_summary(user, customer.pk)
    can_edit = access.editable_customers(user).filter(pk=customer.pk).exists()
    return {
        "summary": summary,
        "progress_percent": round(summary.progress * 100),
        "entries": list(selectors.ledger(user, customer.pk)[:8]),
        "can_edit": can_edit,
        "form_key": uuid.uuid4().hex,  # one per rendered form: a double submit redeems once
        "threshold": selectors.current_programme().adjustment_threshold,
        "is_manager": access.role_of(user) in (access.ADMIN, access.MANAGER),
    }


_TITLES = {
    PointsEntry.Kind.REDEEM: gettext_lazy("Redeemed %(points)s points"),
    PointsEntry.Kind.EXPIRE: gettext_lazy("%(points)s points expired"),
    PointsEntry.Kind.ADJUST: gettext_lazy("Points adjusted by %(points)s"),
    PointsEntry.Kind.REVERSE: gettext_lazy("%(points)s points taken back (refund)"),
}


def timeline(user, customer, *, before, limit):
    """Tier changes and the notable ledger entries (everything but ordinary earning, which the orders show)."""
    items = []
    changes = selectors.tier_history(user, customer.pk)
    entries = selectors.ledger(user, customer.pk).exclude(kind=PointsEntry.Kind.EARN)
    if before is not None:
        changes = changes.filter(at__lt=before)
        entries = entries.filter(earned_at__lt=before)
    for change in changes[:limit]:
        items.append(
            TimelineItem(
                at=change.at,
                kind="points",
                title=(
                    _("Upgraded to %(tier)s")
                    if change.direction == TierChange.Direction.UP
                    else _("Downgraded to %(tier)s")
                )
                % {"tier": change.to_tier.display_name},
                body=change.reason,
                icon="🏅",
                extra={"tier_change_id": change.pk},
            )
        )
    for entry in entries[:limit]:
        template = _TITLES.get(entry.kind) or gettext_lazy("%(points)s points")
        points = abs(entry.points) if entry.kind != PointsEntry.Kind.ADJUST else f"{entry.points:+d}"
        items.append(
            TimelineItem(
                at=entry.earned_at,
                kind="points",
                title=str(template) % {"points": points},
                body=entry.reason,
                actor=entry.actor.get_username() if entry.actor_id else "",
                icon="🎁",
                extra={"points_entry_id": entry.pk},
            )
        )
    return items
