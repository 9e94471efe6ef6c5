"""My follow-ups, silent customers, the calendar feed and the cadence policies. Thin: parse, call one service or
selector, render; HTMX gets fragments."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound
from guanxi.core.forms import add_field_errors
from guanxi.core.pagination import paginate
from guanxi.customers import selectors as customer_selectors
from guanxi.followups import calendar as ics
from guanxi.followups import selectors, services
from guanxi.followups.forms import FollowUpEditForm, FollowUpForm, PolicyForm


def _int(value, default=0):
    try:
        return max(0, min(int(value), 2**31))
    except (TypeError, ValueError):
        return default


def _redirect(request, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@login_required
def follow_up_list(request):
    teams = list(selectors.team_choices(request.user))
    team_id = _int(request.GET.get("team"), 0) or None
    if team_id not in {t.pk for t in teams}:
        team_id = None
    context = {
        "agenda": selectors.agenda(request.user, team_id=team_id),
        "teams": teams,
        "team_id": team_id,
        "nav_section": "followups",
    }
    return render(request, "followups/list.html", context)


@login_required
@require_POST
def create(request, customer_id: int):
    """From the customer page's follow-ups panel."""
    try:
        customer = customer_selectors.get_customer(request.user, customer_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = FollowUpForm(request.POST)
    url = reverse("customers:detail", args=[customer.pk])
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label}: {' '.join(errs)}" if name in form.fields else " ".join(errs)
            for name, errs in form.errors.items()
        )
        messages.error(request, problems)
        return _redirect(request, url)
    try:
        services.create_follow_up(actor=request.user, customer_id=customer.pk, **form.cleaned_data)
    except GuanxiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Follow-up added."))
    return _redirect(request, url)


@login_required
@require_POST
def done(request, follow_up_id: int):
    """The "Done" button of My follow-ups, with a short note, for a task that needs no interaction log."""
    try:
        follow_up = services.complete_follow_up(
            actor=request.user, follow_up_id=follow_up_id, note=request.POST.get("note", "")[:2000]
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        if request.htmx:
            return render(request, "followups/_row_result.html", {"error": exc.message, "follow_up_id": follow_up_id})
        messages.error(request, exc.message)
        return _redirect(request, _back(request, reverse("followups:list")))
    if request.htmx:
        return render(request, "followups/_row_result.html", {"follow_up": follow_up})
    messages.success(request, _("Follow-up done."))
    return _redirect(request, _back(request, reverse("followups:list")))


@login_required
@require_POST
def cancel(request, follow_up_id: int):
    try:
        follow_up = services.cancel_follow_up(
            actor=request.user, follow_up_id=follow_up_id, note=request.POST.get("note", "")[:2000]
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        messages.error(request, exc.message)
    else:
        if request.htmx:
            return render(request, "followups/_row_result.html", {"follow_up": follow_up})
        messages.success(request, _("Follow-up cancelled."))
    return _redirect(request, _back(request, reverse("followups:list")))


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, follow_up_id: int):
    """Reschedule an open follow-up; managers of the team and admins may also reassign it."""
    try:
        follow_up = selectors.get_follow_up(request.user, follow_up_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    can_reassign = access.can_assign_owner(request.user)
    assignees = selectors.assignee_choices(request.user, follow_up.customer) if can_reassign else None
    initial = {
        "version": follow_up.version,
        "title": follow_up.title,
        "due_on": follow_up.due_on,
        "priority": follow_up.priority,
        "note": follow_up.note,
        "assignee": follow_up.assignee_id,
    }
    form = FollowUpEditForm(request.POST or None, initial=initial, assignees=assignees, can_reassign=can_reassign)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_follow_up(
                actor=request.user,
                follow_up_id=follow_up.pk,
                version=form.cleaned_data["version"],
                data=form.to_data(),
            )
        except GuanxiError as exc:
            form.add_error(None, exc.message)
            add_field_errors(form, exc)
        else:
            messages.success(request, _("Follow-up saved."))
            return redirect("followups:list")
    return render(request, "followups/edit.html", {"form": form, "follow_up": follow_up, "nav_section": "followups"})


@login_required
def silent(request):
    page = paginate(selectors.silent_customers(request.user), limit=25, offset=_int(request.GET.get("offset")))
    return render(request, "followups/silent.html", {"page": page, "nav_section": "followups"})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def calendar(request):
    """The user's feed: its URL is shown once, right after it is created or rotated."""
    token = None
    if request.method == "POST":
        token = services.rotate_calendar_feed(actor=request.user)
    feed_url = request.build_absolute_uri(reverse("followups:feed", args=[token])) if token else ""
    context = {"feed": selectors.calendar_feed(request.user), "feed_url": feed_url, "nav_section": "followups"}
    return render(request, "followups/calendar.html", context)


@never_cache
@require_GET
def feed(request, token: str):
    """The ICS feed: no login, the secret token in the URL; a wrong or old token is a 404."""
    feed_row = selectors.feed_for(token)
    if feed_row is None:
        raise Http404
    services.touch_feed(feed_row)
    follow_ups = selectors.feed_follow_ups(feed_row.user)
    body = ics.build_feed(feed_row.user, follow_ups, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="follow-ups.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
def policies(request):
    if access.role_of(request.user) not in (access.ADMIN, access.MANAGER):
        raise Http404
    return render(request, "followups/policies.html", {"policies": selectors.policies(), "nav_section": "followups"})


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, key: str):
    if access.role_of(request.user) not in (access.ADMIN, access.MANAGER):
        raise Http404
    try:
        policy = selectors.get_policy(key)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(policy), policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy(
                actor=request.user, key=key, version=form.cleaned_data["version"], data=form.to_data()
            )
        except GuanxiError as exc:
            form.add_error(None, exc.message)
            add_field_errors(form, exc)
        else:
            messages.success(request, _("Cadence policy saved."))
            return redirect("followups:policies")
    return render(request, "followups/policy_form.html", {"form": form, "policy": policy, "nav_section": "followups"})
