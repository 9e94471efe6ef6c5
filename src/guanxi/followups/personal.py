"""The follow-ups' part of a customer's personal-data export and erasure (customers.personal_data).

Erasure keeps each follow-up as a bare fact (who, when due, when done), so workload figures stay true, and
removes the free text, which may name the customer: titles become a neutral word, notes are emptied.
"""

from typing import Any

from guanxi.followups.models import FollowUp


def export_follow_ups(customer) -> list[dict[str, Any]]:
    rows = FollowUp.objects.filter(customer=customer).select_related("assignee", "policy").order_by("due_on", "id")
    return [
        {
            "id": f.pk,
            "title": f.title,
            "note": f.note,
            "due_on": f.due_on,
            "priority": f.priority,
            "status": f.status,
            "source": f.source,
            "policy": f.policy.key if f.policy_id else None,
            "assignee": f.assignee.get_username(),
            "completed_at": f.completed_at,
            "completion_note": f.completion_note,
            "created_at": f.created_at,
        }
        for f in rows
    ]


def erase_follow_ups(customer, needles: list[str]) -> int:
    return FollowUp.objects.filter(customer=customer).update(title="Follow-up", note="", completion_note="")
