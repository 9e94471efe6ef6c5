"""Interaction pages and the customer page's HTMX fragments. Thin: parse, call one service or selector, render."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import GuanxiError, NotFound
from guanxi.core.forms import add_field_errors
from guanxi.core.pagination import paginate
from guanxi.customers import selectors as customer_selectors
from guanxi.engagement import downloads, panels, selectors, services, sources
from guanxi.engagement.forms import InteractionEditForm, InteractionForm
from guanxi.engagement.models import Interaction


def _customer(request, customer_id: int):
    try:
        return customer_selectors.get_customer(request.user, customer_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def recent(request):
    """Recent interactions across the customers I can see; filters: channel, mine only."""
    params = request.GET
    channel = params.get("channel", "")
    channel = channel if channel in Interaction.Channel.values else ""
    mine = params.get("mine") == "1"
    rows = selectors.interactions(request.user, channel=channel, author_id=request.user.pk if mine else None)
    page = paginate(rows, limit=25, offset=panels.positive_int(params.get("offset")) or 0)
    query = params.copy()
    query.pop("offset", None)
    context = {
        "page": page,
        "channels": Interaction.Channel.choices,
        "filters": {"channel": channel, "mine": mine},
        "query": query.urlencode(),
    }
    template = "engagement/_recent_rows.html" if request.htmx and request.htmx.target == "results" else None
    return render(request, template or "engagement/recent.html", context)


def _form_context(customer, form, error: str = "") -> dict:
    return {"customer": customer, "form": form, "error": error, "max_bytes": services.attachment_max_bytes()}


@login_required
def log_form(request, customer_id: int):
    """The inline form, with the channel of the button that was clicked (and the follow-up it completes)."""
    customer = _customer(request, customer_id)
    if not selectors.can_log(request.user):
        raise Http404
    if request.GET.get("cancel"):
        return HttpResponse("")
    channel = request.GET.get("channel", "")
    initial = {
        "channel": channel if channel in Interaction.Channel.values else Interaction.Channel.PHONE,
        "direction": Interaction.Direction.INTERNAL
        if channel == Interaction.Channel.NOTE
        else Interaction.Direction.OUTBOUND,
        "follow_up": panels.positive_int(request.GET.get("follow_up")),
    }
    return render(request, "engagement/_form.html", _form_context(customer, InteractionForm(initial=initial)))


@login_required
@require_POST
def log(request, customer_id: int):
    """Save the form; HTMX gets the refreshed timeline (and an emptied form), or the form again with errors."""
    customer = _customer(request, customer_id)
    form = InteractionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.log_interaction(
                actor=request.user,
                customer_id=customer.pk,
                attachments=request.FILES.getlist("attachments"),
                **form.to_service_kwargs(),
            )
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except GuanxiError as exc:
            error = exc.message
            add_field_errors(form, exc)
        else:
            if not request.htmx:  # without JavaScript: back to the customer page
                return redirect("customers:detail", customer.pk)
            context = panels.timeline_context(request.user, customer)
            context.update(customer=customer, clear_form=True)
            return render(request, "engagement/_timeline.html", context)
    response = render(request, "engagement/_form.html", _form_context(customer, form, error))
    response["HX-Retarget"] = "#interaction-form"
    response["HX-Reswap"] = "innerHTML"
    return response


@login_required
def timeline_fragment(request, customer_id: int):
    """The timeline filtered by kind; with ``before``, only the older items (for the "older" button)."""
    customer = _customer(request, customer_id)
    before = panels.parse_before(request.GET.get("before"))
    context = panels.timeline_context(
        request.user,
        customer,
        kinds=[k for k in request.GET.getlist("kinds") if k],
        before=before,
        filtered="filtered" in request.GET or "before" in request.GET,
    )
    context["customer"] = customer
    template = "engagement/_timeline_items.html" if before is not None else "engagement/_timeline.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, interaction_id: int):
    """Edit my interaction in place in the timeline (HTMX: the item becomes the form, and back)."""
    try:
        interaction = selectors.get_interaction(request.user, interaction_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if interaction.author_id != request.user.pk:
        raise Http404
    if request.method == "GET" and request.GET.get("cancel"):
        return _item(request, interaction)
    if request.method == "GET":
        form = InteractionEditForm(initial=InteractionEditForm.initial_for(interaction))
        return render(request, "engagement/_edit_form.html", {"interaction": interaction, "form": form})
    form = InteractionEditForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.update_interaction(
                actor=request.user,
                interaction_id=interaction.pk,
                version=form.cleaned_data["version"],
                data=form.to_data(interaction),
            )
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except GuanxiError as exc:
            error = exc.message
            add_field_errors(form, exc)
        else:
            return _item(request, selectors.get_interaction(request.user, interaction.pk))
    context = {"interaction": interaction, "form": form, "error": error}
    return render(request, "engagement/_edit_form.html", context)


def _item(request, interaction: Interaction):
    return render(request, "engagement/_item.html", {"item": sources.interaction_item(interaction)})


@login_required
@require_POST
def delete(request, interaction_id: int):
    """Delete my interaction from the timeline (HTMX: the item disappears)."""
    try:
        services.delete_interaction(
            actor=request.user,
            interaction_id=interaction_id,
            version=panels.positive_int(request.POST.get("version")),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        return HttpResponse(
            format_html('<p class="flash flash-error" role="alert">{} {}</p>', _("Not deleted:"), exc.message)
        )
    return HttpResponse("")


@login_required
def download(request, attachment_id: int):
    try:
        return downloads.attachment_response(selectors.get_attachment(request.user, attachment_id))
    except NotFound as exc:
        raise Http404(exc.message) from exc
