"""The deals' part of a customer's personal-data export and erasure (customers.personal_data).

Erasure keeps each deal as a bare fact (value, stages, dates), so pipeline figures stay true, and removes the free
text that may name the customer: titles become a neutral word, loss notes are emptied.
"""

from typing import Any

from guanxi.deals.models import Deal


def export_deals(customer) -> list[dict[str, Any]]:
    rows = Deal.objects.filter(customer=customer).select_related("pipeline", "stage", "owner", "lost_reason")
    return [
        {
            "id": d.pk,
            "title": d.title,
            "pipeline": d.pipeline.name,
            "stage": d.stage.key,
            "value": d.value,
            "currency": d.currency,
            "probability": d.probability,
            "expected_close": d.expected_close,
            "owner": d.owner.get_username(),
            "lost_reason": d.lost_reason.key if d.lost_reason_id else None,
            "lost_note": d.lost_note,
            "won_at": d.won_at,
            "lost_at": d.lost_at,
            "order_id": d.order_id,
            "created_at": d.created_at,
        }
        for d in rows.order_by("created_at", "id")
    ]


def erase_deals(customer, needles: list[str]) -> int:
    return Deal.objects.filter(customer=customer).update(title="Deal", lost_note="")
