"""The surveys app's automation action: notify the managers of the team that handled the surveyed ticket."""

from typing import Any

from django.utils.translation import gettext_lazy, gettext_noop

from guanxi.automation.actions import ActionContext, ActionType, _Params


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"message"})
    p.text("message", max_length=300)
    return p.done()


def _run(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    """The managers of the response's team (the ticket's queue team), else of the customer's team."""
    from guanxi.accounts.models import Team
    from guanxi.notifications.services import notify

    payload = (ctx.event.payload if ctx.event else None) or {}
    team_id = payload.get("team_id") or ctx.customer.team_id
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    recipients = list(team.managers.filter(is_active=True).order_by("pk")) if team else []
    message = params.get("message", "").replace("%", "%%") or gettext_noop(
        "Unhappy survey answer from %(customer)s (rule “%(rule)s”)."
    )
    sent = []
    for user in recipients:
        n = notify(
            user,
            "survey.detractor",
            message,
            f"/customers/{ctx.customer.pk}/",
            params={"rule": ctx.rule.name, "customer": ctx.customer.display_name},
        )
        if n is not None:
            sent.append(n.user_id)
    return {"notified": sent}


NOTIFY_RESPONSE_TEAM = ActionType(
    "notify_survey_team",
    gettext_lazy("Notify the managers of the surveyed ticket's team"),
    gettext_lazy("message (optional); for survey triggers: the team that handled the ticket, else the customer's"),
    _clean,
    _run,
    example={"type": "notify_survey_team"},
)
