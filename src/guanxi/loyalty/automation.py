"""The loyalty app's automation action: ``grant_points`` (params: points, reason)."""

from typing import Any

from django.utils.translation import gettext_lazy

from guanxi.automation.actions import ActionContext, ActionType, _Params


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"points", "reason"})
    p.integer("points", default=0, low=1, high=100_000)
    p.text("reason", required=True, max_length=200)
    return p.done()


def _source_key(ctx: ActionContext) -> str:
    # Once per rule and triggering event; a daily rule (no event) grants once per customer and day.
    if ctx.event is not None:
        return f"rule:{ctx.rule.pk}:event:{ctx.event.pk}:{ctx.customer.pk}"
    return f"rule:{ctx.rule.pk}:{ctx.customer.pk}:{ctx.today.isoformat()}"


def _run(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.loyalty.services import credit_points

    entry = credit_points(
        customer_id=ctx.customer.pk,
        points=params["points"],
        source_key=_source_key(ctx),
        reason=params["reason"],
        kind="adjust",
    )
    return {"points_entry_id": entry.pk, "points": entry.points}


GRANT_POINTS = ActionType(
    key="grant_points",
    label=gettext_lazy("Grant points"),
    help=gettext_lazy("Credit the customer's points balance (once per rule and event, or per day for daily rules)."),
    clean=_clean,
    run=_run,
    example={"points": 200, "reason": "Thank you"},
)
