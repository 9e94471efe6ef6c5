"""Every read of interactions and attachments, starting from the access policy.

Interactions are personal data (what was said): users who may not see personal data (analysts) get none; the
others see the interactions of the customers they can see (``access.restrict(..., via="customer")``).
"""

from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.engagement.errors import AttachmentNotFound, InteractionNotFound
from guanxi.engagement.models import Attachment, Interaction
from guanxi.engagement.services import LOGGING_ROLES


def _scoped(user) -> QuerySet:
    if access.role_of(user) is None or not access.can_see_personal_data(user):
        return Interaction.objects.none()
    return access.restrict(Interaction.objects.all(), user, via="customer")


def _with_relations(interactions: QuerySet) -> QuerySet:
    return interactions.select_related("customer", "author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id")), "mentions"
    )


def interactions(
    user,
    *,
    customer_id: int | None = None,
    channel: str = "",
    direction: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    author_id: int | None = None,
) -> QuerySet:
    """Interactions ``user`` may see, newest first, with customer, author, attachments and mentions preloaded.
    ``since`` is inclusive, ``until`` exclusive (both on ``occurred_at``)."""
    rows = _scoped(user)
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if channel:
        rows = rows.filter(channel=channel)
    if direction:
        rows = rows.filter(direction=direction)
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    if until is not None:
        rows = rows.filter(occurred_at__lt=until)
    if author_id is not None:
        rows = rows.filter(author_id=author_id)
    return _with_relations(rows).order_by("-occurred_at", "-id")


def get_interaction(user, interaction_id: int) -> Interaction:
    """The interaction if ``user`` may see it; otherwise InteractionNotFound, whether or not it exists."""
    interaction = _with_relations(_scoped(user)).filter(pk=interaction_id).first()
    if interaction is None:
        raise InteractionNotFound(_("No interaction with id %(id)s.") % {"id": interaction_id})
    return interaction


def get_attachment(user, attachment_id: int) -> Attachment:
    """The attachment if ``user`` may see its interaction's customer; otherwise AttachmentNotFound."""
    attachment = (
        Attachment.objects.filter(interaction__in=_scoped(user).values("pk"), pk=attachment_id)
        .select_related("interaction")
        .first()
    )
    if attachment is None:
        raise AttachmentNotFound(_("No attachment with id %(id)s.") % {"id": attachment_id})
    return attachment


def can_log(user) -> bool:
    """Whether ``user``'s role may log interactions at all (then: on customers they can see)."""
    return access.role_of(user) in LOGGING_ROLES
