"""Pool, transfer and rule pages. Thin: parse, call one service or selector, render; HTMX gets fragments."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.accounts.models import User
from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound, PermissionDenied
from guanxi.core.forms import add_field_errors
from guanxi.core.pagination import paginate
from guanxi.customers import selectors as customer_selectors
from guanxi.ownership import selectors, services
from guanxi.ownership.forms import PoolRuleForm, TransferForm


def _int(value, default=0):
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def _redirect(request, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
def pool(request):
    params = request.GET
    rows = selectors.pool(
        request.user,
        q=params.get("q", "")[:100].replace("\x00", ""),
        region=params.get("region", "")[:100].replace("\x00", ""),
        industry=params.get("industry", "")[:100].replace("\x00", ""),
    )
    page = paginate(rows, limit=25, offset=_int(params.get("offset")))
    query = params.copy()
    query.pop("offset", None)
    context = {
        "page": page,
        "standing": selectors.standing(request.user),
        "can_claim": access.role_of(request.user) in (access.SALES, access.MANAGER),
        "query": query.urlencode(),
        "filters": {k: params.get(k, "") for k in ("q", "region", "industry")},
    }
    return render(request, "ownership/pool.html", context)


@login_required
@require_POST
def claim(request, customer_id: int):
    """From the pool list (HTMX: the row is replaced by the outcome) or the customer page (redirect)."""
    try:
        customer = services.claim_customer(actor=request.user, customer_id=customer_id)
    except GuanxiError as exc:
        if request.htmx:
            return render(
                request,
                "ownership/_claim_result.html",
                {"customer_id": customer_id, "error": exc.message, "code": exc.code},
                status=200,
            )
        messages.error(request, exc.message)
        return redirect("ownership:pool")
    if request.htmx and request.POST.get("from") == "pool":
        return render(
            request,
            "ownership/_claim_result.html",
            {"customer_id": customer_id, "customer": customer, "standing": selectors.standing(request.user)},
        )
    messages.success(request, _("You now own “%(name)s”.") % {"name": customer.display_name})
    return _redirect(request, reverse("customers:detail", args=[customer_id]))


@login_required
@require_POST
def release(request, customer_id: int):
    try:
        customer = services.release_customer(
            actor=request.user, customer_id=customer_id, note=request.POST.get("note", "")[:300]
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        messages.error(request, exc.message)
        return _redirect(request, reverse("customers:detail", args=[customer_id]))
    messages.success(request, _("“%(name)s” is back in the team's pool.") % {"name": customer.display_name})
    if access.visible_customers(request.user).filter(pk=customer_id).exists():
        return _redirect(request, reverse("customers:detail", args=[customer_id]))
    return _redirect(request, reverse("ownership:pool"))


@login_required
@require_http_methods(["GET", "POST"])
def transfer_request(request, customer_id: int):
    try:
        customer = customer_selectors.get_customer(request.user, customer_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    candidates = selectors.transfer_candidates(request.user, customer)
    if not (customer.owner_id == request.user.pk or access.can_assign_owner(request.user)):
        candidates = candidates.filter(pk=request.user.pk)
    form = TransferForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_transfer(
                actor=request.user,
                customer_id=customer.pk,
                to_user_id=form.cleaned_data["to_user"].pk,
                reason=form.cleaned_data["reason"],
            )
        except GuanxiError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Transfer requested; a manager will decide."))
            return _redirect(request, reverse("customers:detail", args=[customer.pk]))
    return render(request, "ownership/transfer_form.html", {"form": form, "customer": customer})


@login_required
def transfer_list(request):
    status = request.GET.get("status", "")
    status = status if status in ("pending", "approved", "rejected", "cancelled") else ""
    page = paginate(selectors.transfers(request.user, status=status), limit=25, offset=_int(request.GET.get("offset")))
    context = {
        "queue": list(selectors.transfer_queue(request.user)[:100]),
        "page": page,
        "status": status,
    }
    return render(request, "ownership/transfers.html", context)


@login_required
@require_POST
def transfer_decide(request, request_id: int, decision: str):
    actions = {
        "approve": services.approve_transfer,
        "reject": services.reject_transfer,
    }
    try:
        if decision == "cancel":
            services.cancel_transfer(actor=request.user, request_id=request_id)
        elif decision in actions:
            actions[decision](actor=request.user, request_id=request_id, note=request.POST.get("note", "")[:500])
        else:
            raise Http404
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        messages.error(request, exc.message)
    else:
        done = {
            "approve": _("Transfer approved."),
            "reject": _("Transfer rejected."),
            "cancel": _("Request withdrawn."),
        }
        messages.success(request, done[decision])
    return _redirect(request, reverse("ownership:transfers"))


@login_required
def rules(request):
    teams = list(selectors.manageable_teams(request.user))
    if not teams:
        raise Http404
    rows = [(team, services.rule_for(team.pk)) for team in teams]
    return render(request, "ownership/rules.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, team_id: int):
    try:
        rule = selectors.team_rule(request.user, team_id)
    except PermissionDenied as exc:
        raise Http404(exc.message) from exc
    members = list(User.objects.filter(team_id=team_id, is_active=True).order_by("username"))
    usernames = {u.pk: u.username for u in members}
    form = PoolRuleForm(request.POST or None, initial=PoolRuleForm.initial_for(rule, usernames), members=members)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_pool_rule(
                actor=request.user, team_id=team_id, version=form.cleaned_data["version"], data=form.to_data()
            )
        except GuanxiError as exc:
            form.add_error(None, exc.message)
            add_field_errors(form, exc)
        else:
            messages.success(request, _("Pool rules saved."))
            return redirect("ownership:rules")
    return render(request, "ownership/rule_form.html", {"form": form, "team": rule.team, "members": members})
