"""The offers' part of a customer's personal-data export and erasure (customers.personal_data).

Coupons and campaign memberships carry no free text about the person; erasure keeps them as bare facts (so
campaign reports stay true) and voids the coupons still open, since the customer is no longer to be contacted.
"""

from typing import Any

from guanxi.offers.models import CampaignMember, Coupon


def export_coupons(customer) -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "offer": c.offer.key,
            "status": c.status,
            "issued_at": c.issued_at,
            "expires_at": c.expires_at,
            "redeemed_at": c.redeemed_at,
            "order_id": c.order_id,
            "campaign": c.campaign.name if c.campaign_id else None,
        }
        for c in Coupon.objects.filter(customer=customer).select_related("offer", "campaign").order_by("issued_at")
    ]


def export_campaigns(customer) -> list[dict[str, Any]]:
    return [
        {"campaign": m.campaign.name, "group": m.group, "assigned_at": m.assigned_at}
        for m in CampaignMember.objects.filter(customer=customer).select_related("campaign").order_by("assigned_at")
    ]


def erase_coupons(customer, needles: list[str]) -> int:
    return Coupon.objects.filter(customer=customer, status=Coupon.Status.ISSUED).update(status=Coupon.Status.VOID)
