"""Customer pages. Thin: parse, call one service or selector, render. HTMX requests get fragments."""

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guanxi.accounts.selectors import assignable_users, visible_teams
from guanxi.commerce import selectors as order_selectors
from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound, StaleVersion
from guanxi.core.pagination import paginate
from guanxi.customers import selectors, services
from guanxi.customers.forms import CustomerForm
from guanxi.customers.models import Customer
from guanxi.customers.panels import panels_for
from guanxi.segments import selectors as score_selectors


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _redirect(request, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _fetch(request, customer_id: int) -> Customer:
    try:
        return selectors.get_customer(request.user, customer_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def customer_list(request):
    params = request.GET

    def day(value, end=False):
        parsed = parse_date(value or "")
        if parsed is None:
            return None
        moment = datetime.combine(parsed, time.max if end else time.min)
        return timezone.make_aware(moment)

    filters = selectors.CustomerFilters(
        q=params.get("q", "")[:100],
        owner_id=_int(params.get("owner")),
        team_id=_int(params.get("team")),
        tag=params.get("tag", "")[:50],
        kind=params.get("kind", "") if params.get("kind") in Customer.Kind.values else "",
        created_after=day(params.get("created_after")),
        created_before=day(params.get("created_before"), end=True),
        sort=params.get("sort", "-created"),
    )
    error = None
    try:
        customers = selectors.list_customers(request.user, filters)
    except GuanxiError as exc:
        error, customers = exc.message, Customer.objects.none()
    page = paginate(customers, limit=25, offset=max(0, _int(params.get("offset"), 0)))
    query = params.copy()
    query.pop("offset", None)
    context = {
        "page": page,
        "filters": filters,
        "error": error,
        "query": query.urlencode(),
        "personal": access.can_see_personal_data(request.user),
        "can_create": access.can_create_customers(request.user),
        "owners": assignable_users(request.user) if access.can_assign_owner(request.user) else [],
        "teams": visible_teams(request.user),
        "tags": selectors.tag_names(),
        "kinds": Customer.Kind.choices,
    }
    template = "customers/_results.html" if request.htmx and request.htmx.target == "results" else "customers/list.html"
    return render(request, template, context)


@login_required
def customer_detail(request, customer_id: int):
    customer = _fetch(request, customer_id)
    personal = access.can_see_personal_data(request.user)
    context = {
        "customer": customer,
        "personal": personal,
        "orders": list(order_selectors.list_orders(request.user, customer_id=customer.pk)[:20]),
        "order_summary": order_selectors.customer_order_summary(customer.pk),
        "audit": selectors.customer_audit_trail(request.user, customer),
        "can_edit": selectors.can_edit(request.user, customer),
        "can_delete": selectors.can_delete(request.user, customer),
        "definitions": selectors.custom_field_definitions(),
        "score": score_selectors.customer_score(request.user, customer),
        "main_panels": panels_for(request, customer, "main"),
        "action_panels": panels_for(request, customer, "actions"),
    }
    return render(request, "customers/detail.html", context)


def _form(request, customer: Customer | None, data=None):
    owners = assignable_users(request.user) if access.can_assign_owner(request.user) else None
    initial = CustomerForm.initial_for(customer) if customer else {"kind": "person", "source": "manual"}
    return CustomerForm(data, initial=initial, definitions=selectors.custom_field_definitions(), owners=owners)


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    if not access.can_create_customers(request.user):
        raise Http404
    form = _form(request, None, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.to_data()
        if "owner_id" in data and data["owner_id"] is None and "owner_id" not in request.POST:
            data.pop("owner_id")
        try:
            customer = services.create_customer(actor=request.user, data=data)
        except GuanxiError as exc:
            form.add_service_errors(exc.details)
            if not exc.details:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.display_name})
            return _redirect(request, reverse("customers:detail", args=[customer.pk]))
    template = "customers/_form.html" if request.htmx else "customers/form.html"
    return render(request, template, {"form": form, "customer": None})


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, customer_id: int):
    customer = _fetch(request, customer_id)
    if not selectors.can_edit(request.user, customer):
        raise Http404
    form = _form(request, customer, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.to_data()
        if "owner_id" in data and not access.can_assign_owner(request.user):
            data.pop("owner_id")
        try:
            services.update_customer(
                actor=request.user,
                customer_id=customer.pk,
                version=form.cleaned_data.get("version"),
                data=data,
            )
        except StaleVersion as exc:
            form.add_error(None, exc.message)
        except GuanxiError as exc:
            form.add_service_errors(exc.details)
            if not exc.details:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("Changes saved."))
            return _redirect(request, reverse("customers:detail", args=[customer.pk]))
    template = "customers/_form.html" if request.htmx else "customers/form.html"
    return render(request, template, {"form": form, "customer": customer})


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request, customer_id: int):
    customer = _fetch(request, customer_id)
    if not selectors.can_delete(request.user, customer):
        raise Http404
    if request.method == "POST":
        try:
            services.delete_customer(
                actor=request.user, customer_id=customer.pk, version=_int(request.POST.get("version"))
            )
        except GuanxiError as exc:
            messages.error(request, exc.message)
            return _redirect(request, reverse("customers:detail", args=[customer.pk]))
        messages.success(request, _("Customer “%(name)s” deleted.") % {"name": customer.display_name})
        return _redirect(request, reverse("customers:list"))
    template = "customers/_delete.html" if request.htmx else "customers/delete.html"
    return render(request, template, {"customer": customer})
