"""The interactions' part of a customer's personal-data export and erasure (customers.personal_data).

Erasure keeps each interaction as a bare fact (channel, direction, when, how long, who logged it), so contact
counts and "last contact" dates stay true, and removes everything that was said: subject, body, outcome,
mentions and the attachments (rows now, files once the erasure commits).
"""

from typing import Any

from guanxi.engagement.models import Attachment, Interaction


def export_interactions(customer) -> list[dict[str, Any]]:
    rows = (
        Interaction.objects.filter(customer=customer)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("occurred_at", "id")
    )
    return [
        {
            "id": i.pk,
            "occurred_at": i.occurred_at,
            "channel": i.channel,
            "direction": i.direction,
            "subject": i.subject,
            "body": i.body,
            "outcome": i.outcome,
            "duration_seconds": i.duration_seconds,
            "author": i.author.get_username() if i.author_id else None,
            "attachments": ", ".join(a.name for a in i.attachments.all()),
        }
        for i in rows
    ]


def erase_interactions(customer, needles: list[str]) -> int:
    rows = Interaction.objects.filter(customer=customer)
    # Row by row, so that each attachment's post_delete handler removes its file after commit.
    for attachment in Attachment.objects.filter(interaction__customer=customer):
        attachment.delete()
    Interaction.mentions.through.objects.filter(interaction__customer=customer).delete()
    return rows.update(subject="", body="", outcome="")
