"""The ICS calendar feed of a user's open follow-ups (RFC 5545), for calendar apps that subscribe to a URL.

One all-day VEVENT per open follow-up (calendar apps show events far more widely than VTODOs), with a UID that
stays the same for the follow-up's life and a SEQUENCE that follows its version, so a rescheduled task moves
instead of appearing twice. Reads only; the token check is in ``selectors.feed_owner``.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from guanxi.followups.models import FollowUp

PRODID = "-//Guanxi CRM//Follow-ups//EN"


def follow_up_uid(follow_up: FollowUp) -> str:
    return f"follow-up-{follow_up.pk}@guanxi"


def build_feed(user, follow_ups, *, base_url: str) -> bytes:
    """The ICS document of ``follow_ups`` (already limited to ``user``'s open ones); links start at ``base_url``."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Guanxi follow-ups of %(user)s") % {"user": user})
    calendar.add("x-published-ttl", "PT1H")
    now = timezone.now()
    for follow_up in follow_ups:
        link = f"{base_url.rstrip('/')}/customers/{follow_up.customer_id}/?follow_up={follow_up.pk}"
        event = Event()
        event.add("uid", follow_up_uid(follow_up))
        event.add("dtstamp", now)
        event.add("last-modified", follow_up.updated_at)
        event.add("sequence", follow_up.version)
        event.add("dtstart", follow_up.due_on)
        event.add("dtend", follow_up.due_on + timedelta(days=1))
        event.add("summary", f"{follow_up.title} – {follow_up.customer.display_name}")
        description = [follow_up.note] if follow_up.note else []
        description.append(link)
        event.add("description", "\n\n".join(description))
        event.add("url", link)
        event.add("transp", "TRANSPARENT")
        if follow_up.priority == FollowUp.Priority.URGENT:
            event.add("priority", 1)
        calendar.add_component(event)
    return calendar.to_ical()
