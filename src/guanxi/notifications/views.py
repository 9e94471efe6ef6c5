"""The inbox page and the header bell (loaded by HTMX after the page, so no page pays for its query)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.errors import NotFound
from guanxi.core.pagination import paginate
from guanxi.notifications import selectors, services


def _int(value, default=0):
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


@login_required
@require_GET
def inbox(request):
    unread_only = request.GET.get("unread") == "1"
    page = paginate(
        selectors.user_notifications(request.user, unread_only=unread_only),
        limit=25,
        offset=_int(request.GET.get("offset")),
    )
    context = {"page": page, "unread_only": unread_only, "unread": selectors.unread_count(request.user)}
    return render(request, "notifications/inbox.html", context)


@login_required
@require_GET
def bell(request):
    return render(request, "notifications/_bell.html", {"unread": selectors.unread_count(request.user)})


@login_required
@require_POST
def read(request, notification_id: int):
    try:
        notification = services.mark_read(user=request.user, notification_id=notification_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.htmx:
        return render(request, "notifications/_item.html", {"notification": notification})
    if request.POST.get("open") and notification.link:
        return redirect(notification.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request):
    services.mark_all_read(user=request.user)
    return redirect("notifications:inbox")
