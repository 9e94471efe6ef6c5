"""The offers app's automation action ``issue_offer``: the offer with its control group kept.

Each customer a rule reaches joins the offer's always-on campaign, in the control group with the offer's
``control_share`` (no coupon, nothing sent) or treated (a coupon), so the rule's effect can be measured like any
campaign (``/offers/campaigns/<id>/``). ``direction`` (up, down) limits it to tier changes that way, for rules on
``member.tier_changed``.
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.automation.actions import ActionContext, ActionType, _Params


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.offers.models import Offer

    p = _Params(params, {"offer", "direction"})
    key = p.text("offer", required=True, max_length=50)
    p.choice("direction", ("any", "up", "down"), default="any")
    if key and not Offer.objects.filter(key=key).exists():
        p.errors.setdefault("offer", []).append(_("No offer with this key."))
    return p.done()


def _source_key(ctx: ActionContext) -> str:
    # Once per rule and triggering event; a daily rule issues at most once per customer and day.
    if ctx.event is not None:
        return f"rule:{ctx.rule.pk}:event:{ctx.event.pk}:{ctx.customer.pk}"
    return f"rule:{ctx.rule.pk}:{ctx.customer.pk}:{ctx.today.isoformat()}"


def _run(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.offers import services
    from guanxi.offers.errors import OfferUnavailable

    direction = params.get("direction", "any")
    if direction != "any":
        happened = (ctx.event.payload or {}).get("direction") if ctx.event is not None else None
        if happened != direction:
            return {"skipped": "direction", "direction": happened}
    try:
        member, coupon = services.offer_with_control(
            offer_key=params["offer"], customer_id=ctx.customer.pk, source_key=_source_key(ctx)
        )
    except OfferUnavailable as exc:
        return {"skipped": "unavailable", "reason": exc.message}
    return {
        "campaign_id": member.campaign_id,
        "group": member.group,
        "coupon_id": coupon.pk if coupon else None,
    }


ISSUE_OFFER = ActionType(
    key="issue_offer",
    label=gettext_lazy("Issue an offer (with a control group)"),
    help=gettext_lazy(
        "offer: the offer's key; direction (any, up, down) for tier changes. The offer's control share is held "
        "out and only recorded, so the effect can be measured."
    ),
    clean=_clean,
    run=_run,
    example={"type": "issue_offer", "offer": "win_back"},
)
