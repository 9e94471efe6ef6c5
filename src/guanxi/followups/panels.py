"""What follow-ups add to the customer page (customers.panels) and to the customer timeline (engagement)."""

from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.engagement.timeline import TimelineItem
from guanxi.followups import selectors
from guanxi.followups.models import FollowUp


def customer_follow_ups(request, customer):
    """The customer's open follow-ups the user may see, the one the page was opened for, and the add form."""
    user = request.user
    if access.role_of(user) not in (access.ADMIN, access.MANAGER, access.SALES):
        return None
    follow_ups = selectors.customer_follow_ups(user, customer.pk)
    try:
        current = int(request.GET.get("follow_up", ""))
    except ValueError:
        current = None
    return {
        "follow_ups": follow_ups,
        "current": current if any(f.pk == current for f in follow_ups) else None,
        "can_add": access.editable_customers(user).filter(pk=customer.pk).exists(),
        "priorities": FollowUp.Priority.choices,
    }


def timeline(user, customer, *, before, limit):
    """Completed follow-ups: when and by whom the customer was followed up, and the note left."""
    items = []
    for follow_up in selectors.completed_for_timeline(user, customer.pk, before=before, limit=limit):
        who = follow_up.completed_by or follow_up.assignee
        items.append(
            TimelineItem(
                at=follow_up.completed_at,
                kind="follow_ups",
                title=_("Follow-up done: %(title)s") % {"title": follow_up.title},
                body=follow_up.completion_note,
                actor=who.get_username() if who else "",
                icon="✅",
                extra={"follow_up_id": follow_up.pk, "interaction_id": follow_up.interaction_id},
            )
        )
    return items
