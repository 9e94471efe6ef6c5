"""Offers, campaigns and the uplift report, and the customer panel's issue and redeem forms. Thin: parse, call
one service or selector, render."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound
from guanxi.core.forms import add_field_errors
from guanxi.offers import selectors, services
from guanxi.offers.forms import CampaignForm, IssueForm, OfferForm, RedeemForm

MANAGERS = (access.ADMIN, access.MANAGER)


def _is_manager(user) -> bool:
    return access.role_of(user) in MANAGERS


@login_required
def offer_list(request):
    if access.role_of(request.user) is None:
        raise Http404
    context = {
        "offers": list(selectors.list_offers(request.user)),
        "can_manage": _is_manager(request.user),
        "nav_section": "offers",
    }
    return render(request, "offers/offers.html", context)


@login_required
def offer_edit(request, offer_id: int | None = None):
    if not _is_manager(request.user):
        raise Http404
    offer = None
    if offer_id is not None:
        try:
            offer = selectors.get_offer(request.user, offer_id)
        except NotFound as exc:
            raise Http404(exc.message) from exc
    initial = OfferForm.initial_for(offer) if offer else None
    form = OfferForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if offer is None:
                services.create_offer(actor=request.user, data=form.to_data())
            else:
                services.update_offer(
                    actor=request.user, offer_id=offer.pk, version=form.cleaned_data["version"], data=form.to_data()
                )
        except GuanxiError as exc:
            if not add_field_errors(form, exc):
                field = exc.details.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Offer saved."))
            return redirect("offers:list")
    return render(request, "offers/offer_form.html", {"form": form, "offer": offer, "nav_section": "offers"})


@login_required
def campaign_list(request):
    if access.role_of(request.user) not in selectors.CAMPAIGN_ROLES:
        raise Http404
    form = CampaignForm(request.POST or None) if _is_manager(request.user) else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                campaign = services.create_campaign(actor=request.user, data=form.to_data())
            except GuanxiError as exc:
                if not add_field_errors(form, exc):
                    field = exc.details.get("field")
                    form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Campaign created. Check the audience, then launch it."))
                return redirect("offers:campaign", campaign_id=campaign.pk)
    context = {"campaigns": list(selectors.list_campaigns(request.user)), "form": form, "nav_section": "offers"}
    return render(request, "offers/campaigns.html", context)


def _figure(data: list, layout: dict) -> str:
    return json.dumps({"data": data, "layout": layout})


def _rate_figure(report) -> str:
    groups = [(_("Got the offer"), report.treated), (_("Control (not contacted)"), report.control)]
    shown = [(label, g) for label, g in groups if g.size]
    return _figure(
        [
            {
                "type": "bar",
                "x": [label for label, _g in shown],
                "y": [round(g.return_rate * 100, 2) for _l, g in shown],
                "marker": {"color": ["#2563eb", "#9ca3af"][: len(shown)]},
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [round((g.rate_high - g.return_rate) * 100, 2) for _l, g in shown],
                    "arrayminus": [round((g.return_rate - g.rate_low) * 100, 2) for _l, g in shown],
                },
            }
        ],
        {"yaxis": {"title": {"text": _("Returned, in percent of the group")}, "rangemode": "tozero"}},
    )


def _curve_figure(report) -> str:
    return _figure(
        [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("Got the offer"),
                "x": report.curve_days,
                "y": [round(v * 100, 2) for v in report.treated_curve],
                "line": {"color": "#2563eb"},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("Control (not contacted)"),
                "x": report.curve_days,
                "y": [round(v * 100, 2) for v in report.control_curve],
                "line": {"color": "#9ca3af"},
            },
        ],
        {
            "xaxis": {"title": {"text": _("Days after the offer")}},
            "yaxis": {"title": {"text": _("Returned so far (%)")}, "rangemode": "tozero"},
            "legend": {"orientation": "h"},
        },
    )


@login_required
def campaign_report(request, campaign_id: int):
    try:
        result = selectors.campaign_report(request.user, campaign_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    report = result.report
    context = {
        "result": result,
        "campaign": result.campaign,
        "report": report,
        "rate_figure": _rate_figure(report) if report.treated.size or report.control.size else "",
        "curve_figure": _curve_figure(report) if report.curve_days else "",
        "can_launch": _is_manager(request.user) and result.campaign.status == "draft",
        "audience_size": (
            services.audience(request.user, result.campaign).count()
            if _is_manager(request.user) and result.campaign.status == "draft"
            else None
        ),
        "nav_section": "offers",
    }
    return render(request, "offers/campaign_report.html", context)


@login_required
@require_POST
def launch(request, campaign_id: int):
    try:
        services.launch_campaign(actor=request.user, campaign_id=campaign_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Campaign launched."))
    return redirect("offers:campaign", campaign_id=campaign_id)


def _customer_url(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id])


@login_required
@require_POST
def issue(request, customer_id: int):
    form = IssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an offer."))
        return redirect(_customer_url(customer_id))
    try:
        coupon = services.issue_coupon(
            actor=request.user,
            offer_id=form.cleaned_data["offer_id"],
            customer_id=customer_id,
            source_key=f"page:{request.POST.get('key', '')[:64]}" if request.POST.get("key") else "",
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Coupon %(code)s issued.") % {"code": coupon.code})
    return redirect(_customer_url(customer_id))


@login_required
@require_POST
def redeem(request, customer_id: int):
    form = RedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a coupon code."))
        return redirect(_customer_url(customer_id))
    try:
        coupon = services.redeem_coupon(actor=request.user, code=form.cleaned_data["code"], customer_id=customer_id)
    except GuanxiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Coupon %(code)s redeemed.") % {"code": coupon.code})
    return redirect(_customer_url(customer_id))
