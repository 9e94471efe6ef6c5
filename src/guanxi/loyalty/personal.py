"""Loyalty's part of a customer's personal-data export and erasure (customers.personal_data).

Erasure removes the birth date (the one personal detail the programme holds). The points ledger stays: it is
the record of a contract with the customer (points owed), carries no personal text, and its balance must keep
adding up.
"""

from typing import Any

from guanxi.loyalty.models import Membership, PointsEntry, TierChange


def export_membership(customer) -> list[dict[str, Any]]:
    membership = Membership.objects.filter(pk=customer.pk).select_related("tier").first()
    if membership is None:
        return []
    return [
        {
            "tier": membership.tier.key,
            "balance": membership.balance,
            "joined_at": membership.joined_at,
            "birth_date": membership.birth_date,
            "tier_changes": [
                {"at": c.at, "from": c.from_tier.key if c.from_tier_id else None, "to": c.to_tier.key}
                for c in TierChange.objects.filter(customer=customer).select_related("from_tier", "to_tier")
            ],
        }
    ]


def export_points(customer) -> list[dict[str, Any]]:
    return [
        {
            "id": e.pk,
            "kind": e.kind,
            "points": e.points,
            "at": e.earned_at,
            "expires_on": e.expires_on,
            "reason": e.reason,
            "order_id": e.order_id,
        }
        for e in PointsEntry.objects.filter(customer=customer).order_by("earned_at", "pk")
    ]


def erase_membership(customer, needles: list[str]) -> int:
    return Membership.objects.filter(pk=customer.pk, birth_date__isnull=False).update(birth_date=None)
