"""What deals add to the customer page (customers.panels) and to the customer timeline (engagement)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.deals import selectors
from guanxi.deals.models import DealStageChange
from guanxi.engagement.timeline import TimelineItem


def customer_deals(request, customer):
    """The customer's deals the user may see, and the "New deal" button for those who may change the customer."""
    user = request.user
    if access.role_of(user) not in (access.ADMIN, access.MANAGER, access.SALES):
        return None
    return {
        "deals": list(selectors.customer_deals(user, customer.pk)),
        "can_add": access.editable_customers(user).filter(pk=customer.pk).exists(),
    }


def timeline(user, customer, *, before, limit):
    """Deal stage changes the user may see: created, moved, won, lost."""
    deals = selectors.visible_deals(user).filter(customer_id=customer.pk)
    rows = DealStageChange.objects.filter(deal__in=deals.values("pk")).select_related(
        "deal", "from_stage", "to_stage", "actor"
    )
    if before is not None:
        rows = rows.filter(at__lt=before)
    items = []
    for change in rows.order_by("-at", "-id")[:limit]:
        names = {"title": change.deal.title, "stage": change.to_stage.display_name}
        if change.from_stage_id is None:
            title = _("Deal opened: %(title)s (%(stage)s)") % names
        elif change.to_stage.kind == "won":
            title = _("Deal won: %(title)s") % names
        elif change.to_stage.kind == "lost":
            title = _("Deal lost: %(title)s") % names
        else:
            title = _("Deal %(title)s moved to %(stage)s") % names
        items.append(
            TimelineItem(
                at=change.at,
                kind="deals",
                title=title,
                actor=change.actor.get_username() if change.actor else "",
                link=reverse("deals:detail", args=[change.deal_id]),
                icon="💼",
                extra={"deal_id": change.deal_id},
            )
        )
    return items
