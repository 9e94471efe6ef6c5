"""What offers add to the customer page (customers.panels) and to the customer timeline (engagement)."""

from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.engagement.timeline import TimelineItem
from guanxi.offers import selectors
from guanxi.offers.models import Coupon


def customer_coupons(request, customer):
    """The customer's coupons with their status, and the issue form for those who may change the customer."""
    user = request.user
    if access.role_of(user) not in (access.ADMIN, access.MANAGER, access.SALES, access.SUPPORT):
        return None
    can_issue = access.role_of(user) != access.SUPPORT and (
        access.editable_customers(user).filter(pk=customer.pk).exists()
    )
    return {
        "coupons": list(selectors.list_coupons(user, customer_id=customer.pk)[:10]),
        "can_issue": can_issue,
        "offers": list(selectors.visible_offers(user).filter(active=True).order_by("name")) if can_issue else [],
    }


def timeline(user, customer, *, before, limit):
    """Coupons issued and redeemed."""
    coupons = selectors.list_coupons(user, customer_id=customer.pk)
    if before is not None:
        coupons = coupons.filter(issued_at__lt=before)
    items = []
    for coupon in coupons[:limit]:
        items.append(
            TimelineItem(
                at=coupon.issued_at,
                kind="coupons",
                title=_("Coupon %(code)s issued: %(offer)s")
                % {"code": coupon.code, "offer": coupon.offer.display_name},
                icon="🎟",
                extra={"coupon_id": coupon.pk},
            )
        )
        if coupon.status == Coupon.Status.REDEEMED and (before is None or coupon.redeemed_at < before):
            items.append(
                TimelineItem(
                    at=coupon.redeemed_at,
                    kind="coupons",
                    title=_("Coupon %(code)s redeemed") % {"code": coupon.code},
                    icon="🎟",
                    extra={"coupon_id": coupon.pk, "order_id": coupon.order_id},
                )
            )
    return items
