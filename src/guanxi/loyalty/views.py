"""The programme overview (members per tier, tiers, bonus campaigns, settings) and the customer panel's forms.
Thin: parse, call one service or selector, render or redirect with a message."""

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound
from guanxi.loyalty import programme, selectors, services
from guanxi.loyalty.models import Programme


def _redirect(request, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _message(request, exc: GuanxiError) -> None:
    details = "; ".join(
        f"{name}: {' '.join(str(m) for m in problems)}"
        for name, problems in (exc.details or {}).items()
        if isinstance(problems, list)
    )
    messages.error(request, f"{exc.message} {details}".strip())


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


@login_required
def overview(request):
    """Members per tier (chart), the tier definitions (editable by admins), bonus campaigns and the settings."""
    per_tier = selectors.members_per_tier(request.user)
    figure = {
        "data": [
            {
                "type": "bar",
                "x": [str(tier.display_name) for tier, _count in per_tier],
                "y": [count for _tier, count in per_tier],
                "marker": {"color": ["#9aa5b1", "#a7b4c2", "#d4a72c", "#4c8bf5"][: len(per_tier)]},
            }
        ],
        "layout": {"yaxis": {"title": {"text": _("Members")}}},
    }
    return render(
        request,
        "loyalty/overview.html",
        {
            "per_tier": per_tier,
            "figure": json.dumps(figure),
            "tiers": selectors.list_tiers(),
            "campaigns": selectors.list_campaigns()[:50],
            "settings": selectors.current_programme(),
            "expiry_choices": Programme.Expiry.choices,
            "is_admin": access.role_of(request.user) == access.ADMIN,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def tier_edit(request, tier_id: int):
    """An admin's change to one tier's names, entry rule and benefits."""
    data: dict = {}
    for name in ("name", "name_zh_hans", "benefits", "benefits_zh_hans"):
        if name in request.POST:
            data[name] = request.POST[name].strip()[:2000]
    for name in ("min_points",):
        if name in request.POST:
            value = _int(request.POST[name])
            if value is None or value < 0:
                messages.error(request, _("Enter a whole number of points, zero or more."))
                return _redirect(request, reverse("loyalty:overview"))
            data[name] = value
    for name in ("min_spend", "multiplier", "discount_percent"):
        if name in request.POST:
            value = _decimal(request.POST[name])
            if value is None or value < 0 or (name == "discount_percent" and value > 100):
                messages.error(request, _("Enter a number, zero or more (a discount of at most 100)."))
                return _redirect(request, reverse("loyalty:overview"))
            data[name] = value.quantize(Decimal("0.01"))
    try:
        programme.update_tier(actor=request.user, tier_id=tier_id, data=data)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        _message(request, exc)
    else:
        messages.success(request, _("Tier saved."))
    return _redirect(request, reverse("loyalty:overview"))


@login_required
@require_POST
def programme_edit(request):
    """An admin's change to the programme's settings."""
    data: dict = {}
    for name in ("points_per_order", "window_months", "adjustment_threshold", "expiry_months"):
        value = _int(request.POST.get(name))
        if value is None or value < 0:
            messages.error(request, _("Enter whole numbers, zero or more."))
            return _redirect(request, reverse("loyalty:overview"))
        data[name] = value
    per_unit = _decimal(request.POST.get("points_per_unit"))
    if per_unit is None or per_unit < 0:
        messages.error(request, _("Enter the points per currency unit as a number, zero or more."))
        return _redirect(request, reverse("loyalty:overview"))
    data["points_per_unit"] = per_unit.quantize(Decimal("0.001"))
    data["expiry"] = request.POST.get("expiry", "")
    data["currency"] = request.POST.get("currency", "")
    try:
        programme.update_programme(actor=request.user, data=data, version=_int(request.POST.get("version")))
    except GuanxiError as exc:
        _message(request, exc)
    else:
        messages.success(request, _("Programme settings saved."))
    return _redirect(request, reverse("loyalty:overview"))


def _local(value: str) -> datetime | None:
    parsed = parse_datetime(value or "")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@login_required
@require_POST
def campaign_create(request):
    """An admin's new bonus campaign."""
    data = {
        "name": request.POST.get("name", "").strip()[:120],
        "name_zh_hans": request.POST.get("name_zh_hans", "").strip()[:120],
        "multiplier": _decimal(request.POST.get("multiplier") or "1"),
        "bonus_points": _int(request.POST.get("bonus_points") or "0"),
        "starts_at": _local(request.POST.get("starts_at", "")),
        "ends_at": _local(request.POST.get("ends_at", "")),
        "rule": request.POST.get("rule", "").strip()[:2000],
    }
    if data["multiplier"] is None or data["bonus_points"] is None or data["bonus_points"] < 0:
        messages.error(request, _("Enter the multiplier and the bonus points as numbers."))
    elif data["starts_at"] is None or data["ends_at"] is None:
        messages.error(request, _("Enter when the campaign starts and ends."))
    else:
        try:
            programme.create_campaign(actor=request.user, data=data)
        except GuanxiError as exc:
            _message(request, exc)
        else:
            messages.success(request, _("Bonus campaign added."))
    return _redirect(request, reverse("loyalty:overview"))


@login_required
@require_POST
def campaign_toggle(request, campaign_id: int):
    try:
        campaign = programme.update_campaign(
            actor=request.user, campaign_id=campaign_id, data={"active": request.POST.get("active") == "1"}
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        _message(request, exc)
    else:
        messages.success(request, _("Campaign switched on.") if campaign.active else _("Campaign switched off."))
    return _redirect(request, reverse("loyalty:overview"))


def _customer_url(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id])


@login_required
@require_POST
def redeem(request, customer_id: int):
    """The customer panel's redeem form. The form's one-time key makes a double submit spend once."""
    points = _int(request.POST.get("points"))
    key = request.POST.get("key", "").strip()[:100]
    if points is None or points <= 0 or not key:
        messages.error(request, _("Enter a whole number of points greater than zero."))
        return _redirect(request, _customer_url(customer_id))
    try:
        services.redeem_points(
            actor=request.user,
            customer_id=customer_id,
            points=points,
            source_key=f"web:redeem:{key}",
            reason=request.POST.get("reason", "").strip()[:255],
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        _message(request, exc)
    else:
        messages.success(request, _("%(points)s points redeemed.") % {"points": points})
    return _redirect(request, _customer_url(customer_id))


@login_required
@require_POST
def adjust(request, customer_id: int):
    """The customer panel's adjustment form (a reason is required; large ones need a manager)."""
    points = _int(request.POST.get("points"))
    key = request.POST.get("key", "").strip()[:100]
    if points is None or points == 0 or not key:
        messages.error(request, _("Enter a whole number of points other than zero."))
        return _redirect(request, _customer_url(customer_id))
    try:
        services.adjust_points(
            actor=request.user,
            customer_id=customer_id,
            points=points,
            reason=request.POST.get("reason", "").strip()[:255],
            source_key=f"web:adjust:{key}",
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        _message(request, exc)
    else:
        messages.success(request, _("Points adjusted."))
    return _redirect(request, _customer_url(customer_id))
