"""Lifecycle reads. Everything starts from ``core.access``: a customer outside the caller's scope is not found,
and the aggregates count only the customers the caller may see (analysts: all, as aggregates)."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import Count, F, Window
from django.db.models.functions import Lead
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.lifecycle.errors import CustomerNotFound, NotAllowed
from guanxi.lifecycle.models import FUNNEL_ORDER, CustomerStage, FunnelStage, StageDefinition, StageTransition

ANALYTICS_ROLES = {access.ADMIN, access.MANAGER, access.ANALYST, access.SALES}
FULL_ANALYTICS_ROLES = {access.ADMIN, access.MANAGER, access.ANALYST}


def require_analytics(user, *, full: bool = False) -> None:
    """Reps see their own customers' distribution and funnel; flows and times in stage are for managers,
    admins and analysts."""
    allowed = FULL_ANALYTICS_ROLES if full else ANALYTICS_ROLES
    if access.role_of(user) not in allowed:
        raise NotAllowed(_("Lifecycle statistics are for managers, administrators and analysts."))


def definitions(*, active_only: bool = False):
    rows = StageDefinition.objects.order_by("position", "key")
    return rows.filter(active=True) if active_only else rows


def definition(definition_id: int) -> StageDefinition | None:
    return StageDefinition.objects.filter(pk=definition_id).first()


def stage_labels() -> dict[str, str]:
    """Stage key -> display name, for every defined stage."""
    return {d.key: d.display_name for d in definitions()}


@dataclass(frozen=True)
class CustomerLifecycle:
    customer: object
    current: CustomerStage | None
    definition: StageDefinition | None
    history: list[StageTransition]


def customer_lifecycle(user, customer_id: int, *, limit: int = 50) -> CustomerLifecycle:
    customer = access.visible_customers(user).filter(pk=customer_id).select_related("lifecycle").first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": customer_id})
    current = getattr(customer, "lifecycle", None) if hasattr(customer, "lifecycle") else None
    stage_definition = StageDefinition.objects.filter(key=current.stage).first() if current else None
    history = list(StageTransition.objects.filter(customer_id=customer.pk).order_by("-at", "-id")[:limit])
    return CustomerLifecycle(customer, current, stage_definition, history)


def _stages(user):
    return CustomerStage.objects.filter(customer__in=access.visible_customers(user).values("pk"))


def _transitions(user):
    return access.restrict(StageTransition.objects.all(), user, via="customer")


def distribution(user) -> list[dict]:
    """Customers per stage, in the definitions' order (stages no longer defined last)."""
    counts = dict(_stages(user).values_list("stage").annotate(n=Count("pk")).values_list("stage", "n"))
    labels = stage_labels()
    keys = [*labels, *sorted(set(counts) - set(labels))]
    return [{"stage": key, "label": labels.get(key, key), "customers": counts.get(key, 0)} for key in keys]


def flow(user, since: datetime, until: datetime) -> list[dict]:
    """Stage transitions between ``since`` and ``until`` (inclusive) grouped by (from, to); first stages
    come from "" (no stage)."""
    rows = (
        _transitions(user)
        .filter(view=StageTransition.View.STAGE, at__gte=since, at__lte=until)
        .values("from_stage", "to_stage")
        .annotate(n=Count("pk"))
        .order_by("-n", "from_stage", "to_stage")
    )
    return [{"from": r["from_stage"], "to": r["to_stage"], "customers": r["n"]} for r in rows]


def time_in_stage(user, *, now: datetime | None = None, since: datetime | None = None) -> list[dict]:
    """Days spent per stage: completed stays (one transition to the next) and current stays (since -> now).

    Median, mean and 90th percentile in days; ``completed`` counts the finished stays (those that ended at or
    after ``since`` when given), ``current`` the customers in the stage now.
    """
    now = now or timezone.now()
    transitions = _transitions(user).filter(view=StageTransition.View.STAGE)
    if since is not None:
        # A stay that ended in the period began with a transition before its end; the window needs the rows of
        # the customers who moved in the period, so filter on the customer rather than on the row.
        moved = transitions.filter(at__gte=since).values("customer_id")
        transitions = transitions.filter(customer_id__in=moved)
    stays = transitions.annotate(
        left_at=Window(Lead("at"), partition_by=[F("customer_id")], order_by=[F("at").asc(), F("id").asc()])
    ).values_list("to_stage", "at", "left_at")
    durations: dict[str, list[float]] = {}
    completed: dict[str, int] = {}
    for stage, at, left_at in stays:
        if left_at is None or (since is not None and left_at < since):
            continue
        durations.setdefault(stage, []).append((left_at - at).total_seconds() / 86400)
        completed[stage] = completed.get(stage, 0) + 1
    current: dict[str, int] = {}
    for stage, since in _stages(user).values_list("stage", "since").iterator(chunk_size=5000):
        durations.setdefault(stage, []).append(max((now - since).total_seconds() / 86400, 0.0))
        current[stage] = current.get(stage, 0) + 1
    labels = stage_labels()
    out = []
    for key in [*labels, *sorted(set(durations) - set(labels))]:
        days = np.asarray(durations.get(key, []), dtype=float)
        out.append(
            {
                "stage": key,
                "label": labels.get(key, key),
                "completed": completed.get(key, 0),
                "current": current.get(key, 0),
                "median_days": round(float(np.median(days)), 1) if days.size else None,
                "mean_days": round(float(days.mean()), 1) if days.size else None,
                "p90_days": round(float(np.percentile(days, 90)), 1) if days.size else None,
            }
        )
    return out


def funnel_conversion(user) -> list[dict]:
    """How many customers reached each funnel stage (the funnel never moves back), and the conversion from
    the stage before."""
    counts = dict(_stages(user).values_list("funnel_stage").annotate(n=Count("pk")).values_list("funnel_stage", "n"))
    labels = dict(FunnelStage.choices)
    out, previous = [], None
    for index, key in enumerate(FUNNEL_ORDER):
        reached = sum(counts.get(later, 0) for later in FUNNEL_ORDER[index:])
        rate = round(reached / previous, 4) if previous else None
        out.append({"stage": key, "label": str(labels[key]), "reached": reached, "conversion": rate})
        previous = reached
    return out


def stage_history(user, customer, *, before: datetime | None, limit: int) -> list[StageTransition]:
    rows = _transitions(user).filter(customer_id=customer.pk)
    if before is not None:
        rows = rows.filter(at__lt=before)
    return list(rows.order_by("-at", "-id")[:limit])


def export_for(customer) -> list[dict]:
    """The customer's stage history for a personal-data export (the transitions hold no free text)."""
    return [
        {
            "view": t.view,
            "from": t.from_stage,
            "to": t.to_stage,
            "at": t.at.isoformat(),
            "reason": t.reason,
            "source": t.source,
        }
        for t in StageTransition.objects.filter(customer_id=customer.pk).order_by("at", "id")
    ]
