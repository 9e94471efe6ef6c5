"""Pipeline figures: funnel conversion between stages, win rate, sales-cycle length, lost reasons and the forecast.

Scope: admins and analysts every deal (aggregates only: no customer names leave this module), managers the deals
they see (their teams'), reps their own. Money figures are per currency: the caller picks one (by default the one
most of the deals are in), since adding yuan to dollars means nothing.

- Funnel: for each open stage and the won stage, in pipeline order, the number of deals created in the period that
  *reached* it, read from the stage history (a deal that skipped a stage counts as having passed it: reaching a later
  stage implies the earlier ones). Conversion of a stage = reached(next) / reached(this).
- Win rate: won / (won + lost) among the deals closed in the period.
- Sales cycle: days from creation to the win, for deals won in the period (mean and median).
- Lost reasons: count and value per reason among the deals lost in the period.
- Forecast: open deals' value x probability / 100 by month of the expected close date, per owner and per team.
"""

import itertools
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from guanxi.accounts.models import Team, User
from guanxi.core import access
from guanxi.deals import selectors
from guanxi.deals.models import Deal, DealStage, DealStageChange, LostReason, Pipeline

Kind = DealStage.Kind
ANALYTICS_ROLES = (access.ADMIN, access.MANAGER, access.SALES, access.ANALYST)


def scope(user) -> QuerySet:
    """The deals whose figures ``user`` may see."""
    role = access.role_of(user)
    if role == access.ANALYST:
        return Deal.objects.filter(customer__deleted_at__isnull=True)
    return selectors.visible_deals(user)


@dataclass
class FunnelStep:
    stage: DealStage
    reached: int
    conversion: float | None  # share of this stage's deals that reached the next step; None for the last


@dataclass
class Report:
    pipeline: Pipeline
    currency: str
    funnel: list[FunnelStep] = field(default_factory=list)
    won: int = 0
    lost: int = 0
    win_rate: float | None = None
    won_value: Decimal = Decimal(0)
    cycle_mean_days: float | None = None
    cycle_median_days: float | None = None
    lost_reasons: list[dict] = field(default_factory=list)
    forecast_by_owner: list[dict] = field(default_factory=list)
    forecast_by_team: list[dict] = field(default_factory=list)
    months: list[date] = field(default_factory=list)


def _filtered(user, pipeline, *, owner_id=None, team_id=None) -> QuerySet:
    deals = scope(user).filter(pipeline=pipeline)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    if team_id:
        deals = deals.filter(team_id=team_id)
    return deals


def funnel(deals: QuerySet, stages: list[DealStage]) -> list[FunnelStep]:
    """How many of ``deals`` reached each open stage and the won stage (from the history), in order."""
    steps = [s for s in stages if s.kind != Kind.LOST]
    furthest = _furthest_counts(deals)
    # Reaching a later stage implies passing the earlier ones, even when a drag skipped them.
    result = [FunnelStep(stage, sum(n for order, n in furthest if order >= stage.order), None) for stage in steps]
    for this, nxt in itertools.pairwise(result):
        this.conversion = (nxt.reached / this.reached) if this.reached else None
    return result


def _furthest_counts(deals: QuerySet) -> list[tuple[int, int]]:
    """(furthest stage order reached, number of deals) over the history, lost stages left out."""
    per_deal = (
        DealStageChange.objects.filter(deal__in=deals.values("pk"))
        .exclude(to_stage__kind=Kind.LOST)
        .values("deal_id")
        .annotate(furthest=Max("to_stage__order"))
        .values_list("furthest", flat=True)
    )
    counts: dict[int, int] = {}
    for order in per_deal:
        counts[order] = counts.get(order, 0) + 1
    return sorted(counts.items())


def _weighted():
    return ExpressionWrapper(F("value") * F("probability") / Value(100), output_field=DecimalField())


def forecast(deals: QuerySet, *, by: str) -> list[dict]:
    """Open deals' weighted value by expected-close month and ``by`` (``owner`` or ``team``)."""
    key = {"owner": "owner_id", "team": "team_id"}[by]
    rows = (
        deals.filter(stage__kind=Kind.OPEN, expected_close__isnull=False)
        .annotate(month=TruncMonth("expected_close"))
        .values("month", key)
        .annotate(
            weighted=Coalesce(Sum(_weighted()), Value(0), output_field=DecimalField()),
            value=Coalesce(Sum("value"), Value(0), output_field=DecimalField()),
            deals=Count("id"),
        )
        .order_by("month", key)
    )
    ids = {row[key] for row in rows if row[key]}
    model = User if by == "owner" else Team
    names = {o.pk: (o.get_username() if by == "owner" else o.name) for o in model.objects.filter(pk__in=ids)}
    out = []
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime):
            month = month.date()
        out.append(
            {
                "month": month,
                "id": row[key],
                "name": names.get(row[key], "—"),
                "weighted": Decimal(row["weighted"]).quantize(Decimal("0.01")),
                "value": Decimal(row["value"]).quantize(Decimal("0.01")),
                "deals": row["deals"],
            }
        )
    return out


def report(
    user,
    *,
    pipeline: Pipeline,
    since: datetime | None = None,
    until: datetime | None = None,
    currency: str = "",
    owner_id: int | None = None,
    team_id: int | None = None,
) -> Report:
    """Every figure of the analytics page for the deals ``user`` may count."""
    from django.conf import settings

    deals = _filtered(user, pipeline, owner_id=owner_id, team_id=team_id)
    if not currency:
        # The currency most of these deals are in; an empty pipeline shows the installation's.
        top = deals.values("currency").annotate(n=Count("id")).order_by("-n", "currency").first()
        currency = top["currency"] if top else settings.GUANXI_DEFAULT_CURRENCY
    currency = currency.upper()
    result = Report(pipeline=pipeline, currency=currency)

    created = deals
    if since:
        created = created.filter(created_at__gte=since)
    if until:
        created = created.filter(created_at__lt=until)
    result.funnel = funnel(created, selectors.stages_of(pipeline))

    def closed_between(field_name: str) -> QuerySet:
        qs = deals.filter(**{f"{field_name}__isnull": False})
        if since:
            qs = qs.filter(**{f"{field_name}__gte": since})
        if until:
            qs = qs.filter(**{f"{field_name}__lt": until})
        return qs

    won = closed_between("won_at").filter(stage__kind=Kind.WON)
    lost = closed_between("lost_at").filter(stage__kind=Kind.LOST)
    counts = won.aggregate(n=Count("id"), value=Sum("value", filter=Q(currency=currency)))
    result.won = counts["n"]
    result.won_value = counts["value"] or Decimal(0)
    result.lost = lost.count()
    closed = result.won + result.lost
    result.win_rate = result.won / closed if closed else None

    cycles = [(w - c).total_seconds() / 86400 for c, w in won.values_list("created_at", "won_at")]
    if cycles:
        result.cycle_mean_days = round(statistics.fmean(cycles), 1)
        result.cycle_median_days = round(statistics.median(cycles), 1)

    by_reason = {
        row["lost_reason_id"]: row
        for row in lost.values("lost_reason_id").annotate(
            n=Count("id"), value=Sum("value", filter=Q(currency=currency))
        )
    }
    reasons = {r.pk: r for r in LostReason.objects.filter(pk__in=[k for k in by_reason if k])}
    result.lost_reasons = sorted(
        (
            {
                "key": reasons[k].key if k in reasons else "",
                "name": reasons[k].display_name if k in reasons else "—",
                "count": row["n"],
                "value": row["value"] or Decimal(0),
                "share": row["n"] / result.lost if result.lost else 0,
            }
            for k, row in by_reason.items()
        ),
        key=lambda r: (-r["count"], r["key"]),
    )

    in_currency = deals.filter(currency=currency)
    result.forecast_by_owner = forecast(in_currency, by="owner")
    result.forecast_by_team = forecast(in_currency, by="team")
    result.months = sorted({row["month"] for row in result.forecast_by_owner})
    return result
