"""Webhook pages (admins): endpoints, the delivery log, a delivery's attempts, redelivery. Thin: parse, call one
service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import GuanxiError
from guanxi.core.pagination import paginate
from guanxi.integrations import selectors, services
from guanxi.integrations.forms import EndpointForm
from guanxi.integrations.models import WebhookDelivery


def _int(value, default=0):
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def _apply_errors(form: EndpointForm, exc: GuanxiError) -> None:
    fields = {name: msgs for name, msgs in exc.details.items() if name in form.fields and isinstance(msgs, list)}
    for name, msgs in fields.items():
        for message in msgs:
            form.add_error(name, str(message))
    if not fields:
        form.add_error("url" if exc.code == "destination_refused" else None, exc.message)


@login_required
def endpoint_list(request):
    rows = list(selectors.endpoints(request.user))
    return render(request, "integrations/endpoints.html", {"endpoints": rows, "nav_section": "webhooks"})


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request):
    selectors.endpoints(request.user)  # admins only, before showing the form
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.create_endpoint(
                actor=request.user,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_event_types(),
                description=form.cleaned_data["description"],
                active=form.cleaned_data["active"],
                allow_private=form.cleaned_data["allow_private"],
            )
        except GuanxiError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Endpoint created. Copy its signing secret to the receiver."))
            return redirect("integrations:endpoint", endpoint.pk)
    return render(request, "integrations/endpoint_form.html", {"form": form, "endpoint": None})


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, endpoint_id: int):
    endpoint = selectors.get_endpoint(request.user, endpoint_id)
    initial = {
        "version": endpoint.version,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": "\n".join(endpoint.event_types),
        "active": endpoint.active,
        "allow_private": endpoint.allow_private,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {
            "url": form.cleaned_data["url"],
            "description": form.cleaned_data["description"],
            "event_types": form.cleaned_event_types(),
            "active": form.cleaned_data["active"],
            "allow_private": form.cleaned_data["allow_private"],
        }
        try:
            services.update_endpoint(
                actor=request.user, endpoint_id=endpoint.pk, version=form.cleaned_data["version"], data=data
            )
        except GuanxiError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("integrations:endpoint", endpoint.pk)
    recent = selectors.deliveries(request.user, endpoint_id=endpoint.pk)[:10]
    return render(
        request, "integrations/endpoint_form.html", {"form": form, "endpoint": endpoint, "recent": list(recent)}
    )


@login_required
@require_POST
def endpoint_action(request, endpoint_id: int, action: str):
    """rotate | test | delete, from the endpoint page."""
    try:
        if action == "rotate":
            services.rotate_secret(actor=request.user, endpoint_id=endpoint_id)
            messages.success(request, _("New secret generated; the old one keeps signing for 24 hours."))
        elif action == "test":
            delivery = services.send_test(actor=request.user, endpoint_id=endpoint_id)
            messages.success(request, _("Test message queued."))
            return redirect("integrations:delivery", delivery.pk)
        elif action == "delete":
            services.delete_endpoint(actor=request.user, endpoint_id=endpoint_id)
            messages.success(request, _("Endpoint deleted."))
            return redirect("integrations:endpoints")
        else:
            return redirect("integrations:endpoint", endpoint_id)
    except GuanxiError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("integrations:endpoint", endpoint_id)


@login_required
def delivery_list(request):
    params = request.GET
    status = params.get("status", "")
    status = status if status in WebhookDelivery.Status.values else ""
    endpoint_id = _int(params.get("endpoint")) or None
    event_type = params.get("event_type", "")[:100].replace("\x00", "").strip()
    rows = selectors.deliveries(request.user, status=status, endpoint_id=endpoint_id, event_type=event_type)
    page = paginate(rows, limit=25, offset=_int(params.get("offset")))
    query = params.copy()
    query.pop("offset", None)
    context = {
        "page": page,
        "status": status,
        "statuses": WebhookDelivery.Status.choices,
        "endpoint_id": endpoint_id,
        "event_type": event_type,
        "endpoints": list(selectors.endpoints(request.user)),
        "query": query.urlencode(),
        "nav_section": "webhooks",
    }
    template = "integrations/_delivery_rows.html" if request.htmx else "integrations/deliveries.html"
    return render(request, template, context)


@login_required
def delivery_detail(request, delivery_id: int):
    delivery = selectors.get_delivery(request.user, delivery_id)
    return render(
        request,
        "integrations/delivery.html",
        {"delivery": delivery, "attempts": list(delivery.attempt_log.all()), "nav_section": "webhooks"},
    )


@login_required
@require_POST
def redeliver(request, delivery_id: int):
    try:
        copy = services.redeliver(actor=request.user, delivery_id=delivery_id)
    except GuanxiError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("integrations:delivery", delivery_id)
    messages.success(request, _("Queued again as delivery %(id)s.") % {"id": copy.pk})
    return redirect(reverse("integrations:delivery", args=[copy.pk]))
