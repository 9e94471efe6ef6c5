"""Lifecycle pages: the statistics (/lifecycle/) and the stage definitions (/lifecycle/stages/)."""

import json
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guanxi.core import access
from guanxi.core.errors import GuanxiError
from guanxi.core.forms import add_field_errors
from guanxi.lifecycle import selectors, services
from guanxi.lifecycle.forms import StageDefinitionForm


def _day(text: str | None, default):
    try:
        return datetime.strptime(text, "%Y-%m-%d").date() if text else default
    except ValueError:
        return default


def _sankey(flows: list[dict], labels: dict[str, str]) -> str:
    start = _("(no stage)")
    # Sources on the left, targets on the right, so a stage appears on both sides (A -> B and B -> A flows).
    sources = sorted({f["from"] for f in flows})
    targets = sorted({f["to"] for f in flows})
    names = [labels.get(s, s) if s else start for s in sources] + [labels.get(t, t) for t in targets]
    link = {
        "source": [sources.index(f["from"]) for f in flows],
        "target": [len(sources) + targets.index(f["to"]) for f in flows],
        "value": [f["customers"] for f in flows],
    }
    figure = {
        "data": [{"type": "sankey", "node": {"label": names, "pad": 15}, "link": link}],
        "layout": {"height": 420},
    }
    return json.dumps(figure)


def _bar(rows: list[dict], x: str, y: str) -> str:
    figure = {"data": [{"type": "bar", "x": [r[x] for r in rows], "y": [r[y] for r in rows]}], "layout": {}}
    return json.dumps(figure)


@login_required
def overview(request):
    """Stage distribution, flows between stages over a period, time in stage and funnel conversion."""
    user = request.user
    selectors.require_analytics(user)
    today = timezone.localdate()
    until_day = _day(request.GET.get("until"), today)
    since_day = _day(request.GET.get("since"), until_day - timedelta(days=30))
    if since_day > until_day:
        since_day, until_day = until_day, since_day
    full = access.role_of(user) in selectors.FULL_ANALYTICS_ROLES
    distribution = selectors.distribution(user)
    funnel = selectors.funnel_conversion(user)
    context = {
        "distribution": distribution,
        "distribution_figure": _bar(distribution, "label", "customers"),
        "funnel": funnel,
        "funnel_figure": _bar(funnel, "label", "reached"),
        "full": full,
        "since": since_day,
        "until": until_day,
    }
    if full:
        since = timezone.make_aware(datetime.combine(since_day, time.min))
        until = timezone.make_aware(datetime.combine(until_day, time.max))
        flows = selectors.flow(user, since, until)
        context.update(
            flows=flows,
            flow_figure=_sankey(flows, selectors.stage_labels()) if flows else "",
            times=selectors.time_in_stage(user, since=since),
        )
    template = "lifecycle/_flow.html" if request.htmx and full else "lifecycle/overview.html"
    return render(request, template, context)


@login_required
def stages(request):
    """The stage definitions; administrators may edit them."""
    return render(
        request,
        "lifecycle/stages.html",
        {"definitions": list(selectors.definitions()), "can_edit": access.role_of(request.user) == access.ADMIN},
    )


def _apply_errors(form, exc: GuanxiError) -> None:
    if not add_field_errors(form, exc):
        form.add_error(None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request, definition_id: int | None = None):
    if access.role_of(request.user) != access.ADMIN:
        raise Http404
    definition = selectors.definition(definition_id) if definition_id else None
    if definition_id and definition is None:
        raise Http404
    initial = StageDefinitionForm.initial_for(definition) if definition else {"position": 100, "active": True}
    form = StageDefinitionForm(request.POST or None, initial=initial, editing=definition is not None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "key")}
        try:
            if definition is None:
                services.create_definition(actor=request.user, data={**data, "key": form.cleaned_data["key"]})
            else:
                services.update_definition(
                    actor=request.user,
                    definition_id=definition.pk,
                    version=form.cleaned_data["version"],
                    data=data,
                )
        except GuanxiError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Stage saved. Customers are re-evaluated in the background."))
            return redirect("lifecycle:stages")
    return render(
        request,
        "lifecycle/stage_form.html",
        {"form": form, "definition": definition, "fields": StageDefinitionForm.field_help()},
    )
