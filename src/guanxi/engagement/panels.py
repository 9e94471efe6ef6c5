"""What engagement adds to the customer page (customers.panels): the log buttons and the merged timeline."""

from datetime import datetime
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy as _

from guanxi.engagement import selectors
from guanxi.engagement import timeline as registry
from guanxi.engagement.models import Interaction

Channel = Interaction.Channel
# The quick-log buttons on the customer page, in this order (social media is logged from the form's select).
QUICK_CHANNELS = [
    (Channel.PHONE, _("Call")),
    (Channel.EMAIL, _("E-mail")),
    (Channel.SMS, _("SMS")),
    (Channel.WECHAT, _("WeChat")),
    (Channel.MEETING, _("Meeting")),
    (Channel.VISIT, _("Visit")),
    (Channel.CHAT, _("Chat")),
    (Channel.NOTE, _("Note")),
]


def positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def parse_before(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def timeline_context(user, customer, *, kinds=None, before=None, filtered: bool = False) -> dict:
    """The timeline page and what its filters and "older" button need. ``filtered`` with no kinds: nothing."""
    if filtered and not kinds:
        page = registry.TimelinePage(items=[], kinds=[], has_more=False)
    else:
        page = registry.merged(user, customer, kinds=kinds, before=before)
    more = ""
    if page.next_before is not None:
        more = urlencode([("before", page.next_before.isoformat()), *(("kinds", k) for k in page.kinds)])
    return {
        "page": page,
        "more_query": more,
        "sources": [(s.key, s.label, s.key in page.kinds or not filtered) for s in registry.sources()],
    }


def timeline(request, customer):
    user = request.user
    context = timeline_context(user, customer)
    context.update(
        customer=customer,
        can_log=selectors.can_log(user),
        channels=QUICK_CHANNELS,
        follow_up=positive_int(request.GET.get("follow_up")),
    )
    return context
