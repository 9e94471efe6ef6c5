"""Privacy pages and fragments: the customer page's consent panel and buttons, export download, erasure."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import GuanxiError, NotFound
from guanxi.core.pagination import paginate
from guanxi.privacy import selectors, services
from guanxi.privacy.models import Channel, Consent


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _customer(request, customer_id: int):
    try:
        return selectors.visible_customer(request.user, customer_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def panel_context(request, customer) -> dict | None:
    """The customer page's privacy section: consent per channel, its history, the profiling opt-out."""
    from guanxi.core import access

    if not access.can_see_personal_data(request.user):
        return None
    return {
        "states": selectors.consent_state(customer),
        "history": selectors.consent_history(customer, limit=10),
        "can_record": selectors.can_record_consent(request.user, customer),
        "channels": Channel.choices,
        "sources": Consent.Source.choices,
        "statuses": Consent.Status.choices,
    }


def actions_context(request, customer) -> dict | None:
    can_export = selectors.can_export(request.user, customer)
    can_erase = selectors.can_erase(request.user, customer)
    if not (can_export or can_erase):
        return None
    return {"can_export": can_export, "can_erase": can_erase}


def _panel(request, customer, error: str | None = None, status: int = 200) -> HttpResponse:
    context = {"customer": customer, "panel": panel_context(request, customer), "error": error}
    return render(request, "privacy/_panel.html", context, status=status)


@login_required
@require_POST
def record_consent(request, customer_id: int):
    customer = _customer(request, customer_id)
    try:
        services.record_consent(
            actor=request.user,
            customer_id=customer.pk,
            channel=request.POST.get("channel", ""),
            status=request.POST.get("status", ""),
            source=request.POST.get("source", ""),
            evidence=request.POST.get("evidence", ""),
        )
    except GuanxiError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect("customers:detail", customer.pk)
        return _panel(request, customer, error=exc.message, status=exc.status)
    if not request.htmx:
        messages.success(request, _("Consent recorded."))
        return redirect("customers:detail", customer.pk)
    return _panel(request, customer)


@login_required
@require_POST
def set_profiling(request, customer_id: int):
    customer = _customer(request, customer_id)
    try:
        customer = services.set_profiling_opt_out(
            actor=request.user,
            customer_id=customer.pk,
            version=_int(request.POST.get("version")),
            opt_out=request.POST.get("opt_out") == "1",
        )
    except GuanxiError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect("customers:detail", customer.pk)
        return _panel(request, customer, error=exc.message, status=exc.status)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("customers:detail", args=[customer.pk])
        return response
    messages.success(request, _("Changes saved."))
    return redirect("customers:detail", customer.pk)


@login_required
def export(request, customer_id: int):
    customer = _customer(request, customer_id)
    try:
        data = services.export_customer(actor=request.user, customer_id=customer.pk)
    except GuanxiError as exc:
        messages.error(request, exc.message)
        return redirect("customers:detail", customer.pk)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-personal-data.zip"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase(request, customer_id: int):
    customer = _customer(request, customer_id)
    if not selectors.can_erase(request.user, customer):
        raise Http404
    error = None
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != str(customer.pk):
            error = _("Type the customer's number to confirm.")
        else:
            try:
                log = services.erase_customer(
                    actor=request.user, customer_id=customer.pk, reason=request.POST.get("reason", "")
                )
            except GuanxiError as exc:
                error = exc.message
            else:
                messages.success(
                    request, _("The personal data of customer #%(id)s was erased.") % {"id": log.customer_id}
                )
                return redirect("customers:detail", customer.pk)
    return render(
        request,
        "privacy/erase.html",
        {"customer": customer, "error": error, "reason": request.POST.get("reason", "")},
        status=422 if error else 200,
    )


@login_required
def erasure_log(request):
    logs = selectors.erasure_logs(request.user).select_related("erased_by")
    page = paginate(logs, limit=25, offset=max(0, _int(request.GET.get("offset"), 0)))
    return render(request, "privacy/erasures.html", {"page": page})
