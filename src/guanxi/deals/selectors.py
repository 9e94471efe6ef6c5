"""Every read of deals, starting from the access policy.

Who sees which deals: a sales rep only their own; a manager their own plus those owned by members of the teams they
lead or of customers of those teams; an admin all; support agents and analysts none (analysts get aggregates through
``guanxi.deals.analytics``). The customer must not be deleted. A deal outside this scope is not found (404) by the
same query that fetches it.
"""

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access
from guanxi.deals.errors import DealNotFound, PipelineNotFound
from guanxi.deals.models import Deal, DealStage, DealStageChange, LostReason, Pipeline


def deal_q(user) -> Q | None:
    """The filter of deals ``user`` may see and work on; None means all of them."""
    role = access.role_of(user)
    if role == access.ADMIN:
        return None
    if role == access.MANAGER:
        led = access.managed_team_ids(user) or set()
        return Q(owner_id=user.pk) | Q(team_id__in=led) | Q(owner__team_id__in=led) | Q(customer__team_id__in=led)
    if role == access.SALES:
        return Q(owner_id=user.pk)
    return access.NOTHING


def visible_deals(user) -> QuerySet:
    deals = Deal.objects.filter(customer__deleted_at__isnull=True)
    q = deal_q(user)
    return deals if q is None else deals.filter(q)


def get_deal(user, deal_id: int) -> Deal:
    deals = visible_deals(user).select_related("customer", "pipeline", "stage", "owner", "team", "lost_reason")
    found = deals.filter(pk=deal_id).first()
    if found is None:
        raise DealNotFound(_("No deal with id %(id)s.") % {"id": deal_id}, deal_id=deal_id)
    return found


def list_deals(
    user,
    *,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    owner_id: int | None = None,
    team_id: int | None = None,
    customer_id: int | None = None,
    status: str = "",
) -> QuerySet:
    deals = visible_deals(user).select_related("customer", "stage", "owner", "lost_reason")
    if pipeline_id:
        deals = deals.filter(pipeline_id=pipeline_id)
    if stage_id:
        deals = deals.filter(stage_id=stage_id)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    if team_id:
        deals = deals.filter(team_id=team_id)
    if customer_id:
        deals = deals.filter(customer_id=customer_id)
    if status in DealStage.Kind.values:
        deals = deals.filter(stage__kind=status)
    return deals


def pipelines() -> QuerySet:
    return Pipeline.objects.prefetch_related("stages")


def get_pipeline(pipeline_id: int | None) -> Pipeline:
    """The pipeline, or the default one when ``pipeline_id`` is None. Pipelines are not personal data."""
    qs = Pipeline.objects.all()
    found = qs.filter(pk=pipeline_id).first() if pipeline_id else qs.filter(is_default=True).first() or qs.first()
    if found is None:
        raise PipelineNotFound(f"No pipeline with id {pipeline_id}.", pipeline_id=pipeline_id)
    return found


def stages_of(pipeline: Pipeline) -> list[DealStage]:
    return list(DealStage.objects.filter(pipeline=pipeline).order_by("order", "id"))


def lost_reasons(*, active_only: bool = True) -> QuerySet:
    reasons = LostReason.objects.all()
    return reasons.filter(active=True) if active_only else reasons


def board(user, pipeline: Pipeline, *, owner_id: int | None = None, team_id: int | None = None) -> list[dict]:
    """The kanban columns: each stage with its deals (closed ones of the last 90 days only) and totals.

    Two queries: the stages, then the deals with their customers and owners.
    """
    from datetime import timedelta

    from django.utils import timezone

    stages = stages_of(pipeline)
    recent = timezone.now() - timedelta(days=90)
    deals = list_deals(user, pipeline_id=pipeline.pk, owner_id=owner_id, team_id=team_id).filter(
        Q(stage__kind=DealStage.Kind.OPEN) | Q(won_at__gte=recent) | Q(lost_at__gte=recent)
    )
    by_stage: dict[int, list[Deal]] = {s.pk: [] for s in stages}
    for deal in deals.order_by("expected_close", "id"):
        by_stage.setdefault(deal.stage_id, []).append(deal)
    columns = []
    for stage in stages:
        cards = by_stage.get(stage.pk, [])
        columns.append(
            {
                "stage": stage,
                "deals": cards,
                "count": len(cards),
                "value": sum((d.value for d in cards), start=0),
                "weighted": sum((d.weighted_value for d in cards), start=0),
            }
        )
    return columns


def history(deal: Deal) -> QuerySet:
    return (
        DealStageChange.objects.filter(deal=deal).select_related("from_stage", "to_stage", "actor").order_by("at", "id")
    )


def customer_deals(user, customer_id: int) -> QuerySet:
    return list_deals(user, customer_id=customer_id).order_by("stage__kind", "-created_at")


def owner_choices(user) -> QuerySet:
    """People whose deals ``user`` may filter by or hand a deal to: managers their teams' reps, admins everyone."""
    people = User.objects.filter(is_active=True, role__in=[User.Role.SALES, User.Role.MANAGER]).order_by("username")
    role = access.role_of(user)
    if role == access.ADMIN:
        return people
    if role == access.MANAGER:
        return people.filter(Q(team_id__in=access.managed_team_ids(user) or set()) | Q(pk=user.pk))
    return people.filter(pk=user.pk)


def team_choices(user):
    from guanxi.accounts.models import Team

    role = access.role_of(user)
    if role in (access.ADMIN, access.ANALYST):
        return Team.objects.all()
    if role == access.MANAGER:
        return Team.objects.filter(pk__in=access.managed_team_ids(user) or set())
    return Team.objects.none()


def leads(user) -> QuerySet:
    """Customers the user sees whose lifecycle stage is ``potential``, with the count of their open deals."""
    return (
        access.visible_customers(user)
        .filter(lifecycle__stage="potential")
        .select_related("owner")
        .annotate(open_deals=Count("deals", filter=Q(deals__stage__kind=DealStage.Kind.OPEN)))
        .order_by("-created_at", "-id")
    )


def weighted_sum(deals: QuerySet) -> dict:
    weighted = ExpressionWrapper(F("value") * F("probability") / Value(100), output_field=DecimalField())
    return deals.aggregate(
        count=Count("id"),
        value=Coalesce(Sum("value"), Value(0), output_field=DecimalField()),
        weighted=Coalesce(Sum(weighted), Value(0), output_field=DecimalField()),
    )
