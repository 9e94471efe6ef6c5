"""The kanban board, deal pages, leads, analytics and the pipeline settings. Thin: parse, call one service or
selector, render; HTMX gets fragments (the board after a move)."""

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound, StaleVersion
from guanxi.core.forms import add_field_errors
from guanxi.core.pagination import paginate
from guanxi.deals import analytics, selectors, services
from guanxi.deals.forms import DealForm, StageForm
from guanxi.deals.models import DealStage

WORKERS = (access.ADMIN, access.MANAGER, access.SALES)


def _int(value, default=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if 0 < number < 2**31 else default


def _require(request, roles=WORKERS) -> None:
    if access.role_of(request.user) not in roles:
        raise Http404


def _redirect(request, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _board_filters(request):
    try:
        pipeline = selectors.get_pipeline(_int(request.GET.get("pipeline") or request.POST.get("pipeline")))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    owners = list(selectors.owner_choices(request.user)) if access.can_assign_owner(request.user) else []
    teams = list(selectors.team_choices(request.user))
    owner_id = _int(request.GET.get("owner") or request.POST.get("owner"))
    team_id = _int(request.GET.get("team") or request.POST.get("team"))
    if owner_id not in {o.pk for o in owners}:
        owner_id = None
    if team_id not in {t.pk for t in teams}:
        team_id = None
    return pipeline, owners, teams, owner_id, team_id


def _board_context(request, *, error: str = "", moved: int | None = None) -> dict:
    pipeline, owners, teams, owner_id, team_id = _board_filters(request)
    return {
        "pipeline": pipeline,
        "pipelines": list(selectors.pipelines()),
        "columns": selectors.board(request.user, pipeline, owner_id=owner_id, team_id=team_id),
        "stages": selectors.stages_of(pipeline),
        "lost_reasons": list(selectors.lost_reasons()),
        "owners": owners,
        "teams": teams,
        "owner_id": owner_id,
        "team_id": team_id,
        "error": error,
        "moved": moved,
        "nav_section": "deals",
    }


@login_required
def board(request):
    _require(request)
    return render(request, "deals/board.html", _board_context(request))


@login_required
@require_POST
def move(request, deal_id: int):
    """A card dropped on another column (HTMX: the board comes back) or the card's stage form (no JS)."""
    _require(request)
    error = ""
    try:
        services.move_deal(
            actor=request.user,
            deal_id=deal_id,
            stage_id=_int(request.POST.get("stage_id"), 0),
            version=_int(request.POST.get("version")),
            lost_reason_id=_int(request.POST.get("lost_reason_id")),
            note=request.POST.get("note", "")[:2000],
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except StaleVersion:
        error = _("This deal was changed by someone else; the board has been refreshed.")
    except GuanxiError as exc:
        error = exc.message
    if request.htmx:
        response = render(request, "deals/_board.html", _board_context(request, error=error, moved=deal_id))
        if error:
            response["HX-Trigger"] = json.dumps({"deal-move-refused": error})
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Deal moved."))
    return redirect(_back(request, reverse("deals:board")))


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    """New deal, from the board or the customer page (``?customer=<id>``)."""
    _require(request)
    customer = None
    customer_id = _int(request.GET.get("customer") or request.POST.get("customer_id"))
    if customer_id:
        customer = access.editable_customers(request.user).filter(pk=customer_id).first()
        if customer is None:
            raise Http404
    form = DealForm(request.POST or None, user=request.user, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.create_deal(actor=request.user, data=form.to_data())
        except GuanxiError as exc:
            form.add_error(None, exc.message)
            add_field_errors(form, exc)
        else:
            messages.success(request, _("Deal created."))
            return redirect("deals:detail", deal.pk)
    return render(request, "deals/form.html", {"form": form, "customer": customer, "nav_section": "deals"})


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, deal_id: int):
    """The deal with its history; the edit form for those who may work on it."""
    _require(request)
    try:
        deal = selectors.get_deal(request.user, deal_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = DealForm(request.POST or None, user=request.user, deal=deal)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_deal(
                actor=request.user, deal_id=deal.pk, version=form.cleaned_data["version"], data=form.to_data()
            )
        except GuanxiError as exc:
            form.add_error(None, exc.message)
            add_field_errors(form, exc)
        else:
            messages.success(request, _("Deal saved."))
            return redirect("deals:detail", deal.pk)
    context = {
        "deal": deal,
        "form": form,
        "history": list(selectors.history(deal)),
        "stages": selectors.stages_of(deal.pipeline),
        "lost_reasons": list(selectors.lost_reasons()),
        "nav_section": "deals",
    }
    return render(request, "deals/detail.html", context)


@login_required
@require_POST
def close(request, deal_id: int, outcome: str):
    """The deal page's Won / Lost / Reopen buttons."""
    _require(request)
    version = _int(request.POST.get("version"))
    try:
        if outcome == "won":
            services.win_deal(actor=request.user, deal_id=deal_id, version=version)
            messages.success(request, _("Deal won."))
        elif outcome == "lost":
            services.lose_deal(
                actor=request.user,
                deal_id=deal_id,
                version=version,
                lost_reason_id=_int(request.POST.get("lost_reason_id")),
                note=request.POST.get("note", "")[:2000],
            )
            messages.success(request, _("Deal marked lost."))
        else:
            services.reopen_deal(actor=request.user, deal_id=deal_id, version=version)
            messages.success(request, _("Deal reopened."))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        messages.error(request, exc.message)
    return _redirect(request, reverse("deals:detail", args=[deal_id]))


@login_required
def leads(request):
    """Customers in the ``potential`` lifecycle stage the user sees, to open a deal for."""
    _require(request)
    page = paginate(selectors.leads(request.user), limit=50, offset=_int(request.GET.get("offset"), 0))
    editable = set(
        access.editable_customers(request.user).filter(pk__in=[c.pk for c in page.items]).values_list("pk", flat=True)
    )
    return render(request, "deals/leads.html", {"page": page, "editable": editable, "nav_section": "deals"})


def _month_start(value: str):
    parsed = parse_date(value or "")
    return timezone.make_aware(datetime.combine(parsed, time.min)) if parsed else None


@login_required
def analytics_page(request):
    _require(request, analytics.ANALYTICS_ROLES)
    pipeline, owners, teams, owner_id, team_id = _board_filters(request)
    until = _month_start(request.GET.get("until", ""))
    since = _month_start(request.GET.get("since", "")) or (timezone.now() - timedelta(days=365))
    currency = (request.GET.get("currency") or "").strip().upper()[:3]
    if currency and not currency.isalpha():
        currency = ""
    report = analytics.report(
        request.user,
        pipeline=pipeline,
        since=since,
        until=until,
        currency=currency,
        owner_id=owner_id,
        team_id=team_id,
    )
    context = {
        "report": report,
        "pipeline": pipeline,
        "pipelines": list(selectors.pipelines()),
        "owners": owners,
        "teams": teams,
        "owner_id": owner_id,
        "team_id": team_id,
        "since": since.date(),
        "until": until.date() if until else None,
        "funnel_figure": json.dumps(_funnel_figure(report)),
        "forecast_figure": json.dumps(_forecast_figure(report)),
        "nav_section": "deals",
    }
    return render(request, "deals/analytics.html", context)


def _funnel_figure(report) -> dict:
    return {
        "data": [
            {
                "type": "funnel",
                "y": [step.stage.display_name for step in report.funnel],
                "x": [step.reached for step in report.funnel],
                "textinfo": "value+percent initial",
            }
        ],
        "layout": {"margin": {"l": 120}},
    }


def _forecast_figure(report) -> dict:
    months = [m.isoformat()[:7] for m in report.months]
    by_owner: dict[str, dict[str, Decimal]] = {}
    for row in report.forecast_by_owner:
        by_owner.setdefault(row["name"], {})[row["month"].isoformat()[:7]] = row["weighted"]
    return {
        "data": [
            {"type": "bar", "name": name, "x": months, "y": [float(values.get(m, 0)) for m in months]}
            for name, values in sorted(by_owner.items())
        ],
        "layout": {"barmode": "stack", "yaxis": {"title": {"text": report.currency}}},
    }


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_settings(request):
    """Stages of a pipeline: admins rename them, set their probability and order, add and remove open ones."""
    _require(request, (access.ADMIN,))
    try:
        pipeline = selectors.get_pipeline(_int(request.GET.get("pipeline") or request.POST.get("pipeline")))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = StageForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        stage_id = _int(request.POST.get("stage_id"))
        try:
            if action == "record_order":
                services.update_pipeline(
                    actor=request.user,
                    pipeline_id=pipeline.pk,
                    data={"record_order_on_win": request.POST.get("record_order_on_win") == "on"},
                )
            elif action == "delete" and stage_id:
                services.delete_stage(actor=request.user, stage_id=stage_id)
            elif form.is_valid():
                if stage_id:
                    data = {k: v for k, v in form.cleaned_data.items() if k != "key"}
                    services.update_stage(actor=request.user, stage_id=stage_id, data=data)
                else:
                    services.create_stage(actor=request.user, pipeline_id=pipeline.pk, data=form.cleaned_data)
            else:
                raise GuanxiError("; ".join(" ".join(errs) for errs in form.errors.values()))
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except GuanxiError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Pipeline saved."))
        return redirect(f"{reverse('deals:pipelines')}?pipeline={pipeline.pk}")
    context = {
        "pipeline": pipeline,
        "pipelines": list(selectors.pipelines()),
        "stages": selectors.stages_of(pipeline),
        "kinds": DealStage.Kind,
        "nav_section": "deals",
    }
    return render(request, "deals/pipelines.html", context)
