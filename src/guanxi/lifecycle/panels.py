"""What lifecycle adds to the customer page (customers.panels) and to its timeline (engagement.timeline)."""

from django.utils.translation import gettext as _

from guanxi.lifecycle import selectors
from guanxi.lifecycle.models import CustomerStage, FunnelStage, StageTransition


def stage(request, customer):
    """The current stage, since when, the funnel stage and the stage's playbook."""
    current = CustomerStage.objects.filter(customer_id=customer.pk).first()
    definition = selectors.definitions().filter(key=current.stage).first() if current else None
    return {
        "current": current,
        "stage_label": definition.display_name if definition else (current.stage if current else ""),
        "playbook": definition.playbook if definition else "",
        "funnel_label": dict(FunnelStage.choices).get(current.funnel_stage, "") if current else "",
    }


def _title(transition: StageTransition, labels: dict[str, str]) -> str:
    to = labels.get(transition.to_stage, transition.to_stage)
    if transition.view == StageTransition.View.FUNNEL:
        return _("Funnel stage: %(to)s") % {"to": dict(FunnelStage.choices).get(transition.to_stage, to)}
    if not transition.from_stage:
        return _("Lifecycle stage: %(to)s") % {"to": to}
    return _("Lifecycle stage: %(from)s → %(to)s") % {
        "from": labels.get(transition.from_stage, transition.from_stage),
        "to": to,
    }


def timeline(user, customer, *, before, limit):
    from guanxi.engagement.timeline import TimelineItem

    labels = selectors.stage_labels()
    return [
        TimelineItem(
            at=transition.at,
            kind="stages",
            title=_title(transition, labels),
            body=transition.reason,
            actor=str(transition.get_source_display()),
            icon="⇢",
        )
        for transition in selectors.stage_history(user, customer, before=before, limit=limit)
    ]
