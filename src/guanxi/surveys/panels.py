"""The customer page's survey panel and the timeline source "surveys"."""

from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.engagement.timeline import TimelineItem
from guanxi.surveys import selectors


def customer_responses(request, customer):
    """The customer's survey responses the user may see (not for analysts: they see aggregates only)."""
    if not access.can_see_personal_data(request.user):
        return None
    responses = selectors.customer_responses(request.user, customer.pk)
    if not responses:
        return None
    return {"responses": responses}


def _title(response) -> str:
    parts = [f"{name} {value}" for name, value in (("NPS", response.nps), ("CSAT", response.csat),
                                                  ("CES", response.ces)) if value is not None]  # fmt: skip
    return _("Survey answered: %(survey)s %(scores)s") % {"survey": response.survey.display_name,
                                                          "scores": " · ".join(parts)}  # fmt: skip


def timeline(user, customer, *, before, limit):
    if not access.can_see_personal_data(user):
        return []
    responses = selectors.visible_responses(user).filter(customer_id=customer.pk).select_related("survey")
    if before is not None:
        responses = responses.filter(answered_at__lt=before)
    return [
        TimelineItem(at=r.answered_at, kind="surveys", title=_title(r), body=r.comment, icon="📋",
                     extra={"response_id": r.pk})
        for r in responses.order_by("-answered_at", "-pk")[:limit]
    ]  # fmt: skip
