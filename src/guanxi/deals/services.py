"""Every write of the sales pipeline: deals (create, edit, move, win, lose, reopen) and pipelines with their stages.

Each function is one transaction. Deal changes record ``deal.*`` events (subject = the deal, payload with
``deal_id``, ``customer_id``, ``owner_id``, ``stage`` ...) with their audit entries, and one ``DealStageChange`` row per
move, including the creation. Winning a deal of a pipeline with ``record_order_on_win`` places an order through
``guanxi.commerce.services.place_order`` in the same transaction, so loyalty credits its points on ``order.placed``.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.commerce import services as commerce
from guanxi.commerce.models import Order
from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version
from guanxi.customers.errors import CustomerNotFound
from guanxi.deals import selectors
from guanxi.deals.errors import (
    DealClosed,
    DealDenied,
    DealInvalid,
    PipelineInvalid,
    PipelineNotFound,
    StageInUse,
)
from guanxi.deals.models import Deal, DealStage, DealStageChange, LostReason, Pipeline

Kind = DealStage.Kind
WRITER_ROLES = (access.ADMIN, access.MANAGER, access.SALES)
TITLE_LIMIT = 200
MAX_VALUE = Decimal("999999999999.99")
EDITABLE = {"title", "value", "currency", "probability", "expected_close", "owner_id"}


def _payload(deal: Deal, **extra: Any) -> dict[str, Any]:
    return {
        "deal_id": deal.pk,
        "customer_id": deal.customer_id,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "stage": deal.stage.key,
        "stage_kind": deal.stage.kind,
        "owner_id": deal.owner_id,
        "team_id": deal.team_id,
        "value": deal.value,
        "currency": deal.currency,
        "probability": deal.probability,
        **extra,
    }


def _fields(deal: Deal) -> dict[str, Any]:
    return events.snapshot(
        deal, ("title", "value", "currency", "probability", "expected_close", "owner_id", "stage_id", "lost_reason_id")
    )


def _require_writer(actor) -> None:
    if access.role_of(actor) not in WRITER_ROLES:
        raise DealDenied(_("Only sales reps, managers and admins work on deals."))


def _invalid(field: str, message: str) -> DealInvalid:
    return DealInvalid(message, **{field: [message]})


def _clean_title(value) -> str:
    title = (value or "").strip() if isinstance(value, str) else ""
    if not title:
        raise _invalid("title", _("Enter a title."))
    if len(title) > TITLE_LIMIT:
        raise _invalid("title", _("At most %(n)s characters.") % {"n": TITLE_LIMIT})
    return title


def _clean_value(value) -> Decimal:
    try:
        amount = Decimal(str(value if value is not None else "0"))
    except (InvalidOperation, ValueError):
        raise _invalid("value", _("Enter an amount.")) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_VALUE:
        raise _invalid("value", _("Enter an amount between 0 and 999,999,999,999.99."))
    return amount.quantize(Decimal("0.01"))


def _clean_currency(value) -> str:
    currency = (value or settings.GUANXI_DEFAULT_CURRENCY).strip().upper() if isinstance(value, str | None) else ""
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise _invalid("currency", _("Use a three-letter ISO 4217 code such as CNY."))
    return currency


def _clean_probability(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise _invalid("probability", _("Enter a whole percentage between 0 and 100."))
    return value


def _clean_close(value) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, date):
        raise _invalid("expected_close", _("Enter a valid date."))
    return value


def _check_owner(actor, owner_id: int | None, customer) -> User:
    """Reps own the deals they create; managers hand deals to their teams' people; admins to anyone selling."""
    role = access.role_of(actor)
    if owner_id is None:
        if role in (access.SALES, access.MANAGER):
            return actor
        if customer.owner_id:
            owner_id = customer.owner_id
        else:
            raise _invalid("owner_id", _("Choose who owns the deal."))
    if role == access.SALES and owner_id != actor.pk:
        raise DealDenied(_("Reps cannot give deals to others; ask a manager."))
    owner = selectors.owner_choices(actor).filter(pk=owner_id).first()
    if owner is None:
        raise _invalid("owner_id", _("Choose a sales rep or manager of your teams."))
    return owner


def _locked(actor, deal_id: int) -> Deal:
    """The deal, row-locked, if ``actor`` may work on it; otherwise DealNotFound."""
    _require_writer(actor)
    selectors.get_deal(actor, deal_id)  # the scope check, the same answer as a read
    # Locked by key alone, without joins: when another transaction has just moved the deal, PostgreSQL rechecks
    # the new row against the joined rows of the old one (its previous stage), drops it, and the loser would get
    # a 404 instead of the 409 it deserves.
    return Deal.objects.select_for_update().get(pk=deal_id)


def _stage_of(pipeline_id: int, stage_id, *, field: str = "stage_id") -> DealStage:
    stage = DealStage.objects.filter(pk=stage_id, pipeline_id=pipeline_id).first() if stage_id else None
    if stage is None:
        raise _invalid(field, _("Choose a stage of the deal's pipeline."))
    return stage


@transaction.atomic
def create_deal(*, actor, data: dict[str, Any]) -> Deal:
    """Open a deal for a customer the actor may change, in an open stage (the pipeline's first by default).

    Reps own their deals; managers and admins may choose the owner (``owner_id``). The probability defaults to the
    stage's. Emits ``deal.created`` and writes the first stage-history row.
    """
    _require_writer(actor)
    unknown = set(data) - {"customer_id", "pipeline_id", "stage_id", *EDITABLE}
    if unknown:
        raise DealInvalid(_("These fields are not known."), **{name: [_("Unknown field.")] for name in sorted(unknown)})
    customer = access.editable_customers(actor).filter(pk=data.get("customer_id") or 0).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": data.get("customer_id")})
    try:
        pipeline = selectors.get_pipeline(data.get("pipeline_id"))
    except PipelineNotFound:
        raise _invalid("pipeline_id", _("Choose a pipeline.")) from None
    if data.get("stage_id"):
        stage = _stage_of(pipeline.pk, data["stage_id"])
    else:
        stage = DealStage.objects.filter(pipeline=pipeline, kind=Kind.OPEN).order_by("order", "id").first()
        if stage is None:
            raise _invalid("pipeline_id", _("This pipeline has no open stage."))
    if stage.kind != Kind.OPEN:
        raise _invalid("stage_id", _("A new deal starts in an open stage."))
    owner = _check_owner(actor, data.get("owner_id"), customer)
    probability = data.get("probability")
    now = timezone.now()
    deal = Deal.objects.create(
        customer=customer,
        pipeline=pipeline,
        stage=stage,
        title=_clean_title(data.get("title")),
        value=_clean_value(data.get("value")),
        currency=_clean_currency(data.get("currency")),
        probability=stage.probability if probability is None else _clean_probability(probability),
        expected_close=_clean_close(data.get("expected_close")),
        owner=owner,
        team_id=owner.team_id,
        stage_entered_at=now,
        created_at=now,
        created_by=actor,
    )
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, at=now, actor=actor)
    events.record(
        "deal.created",
        subject=deal,
        actor=actor,
        payload=_payload(deal),
        audit_action="create",
        changes=events.diff({}, _fields(deal)),
    )
    return deal


@transaction.atomic
def update_deal(*, actor, deal_id: int, version: int | None, data: dict[str, Any]) -> Deal:
    """Edit a deal's title, value, currency, probability, expected close date, or owner (managers, admins).

    A stale ``version`` is a 409. Emits ``deal.updated`` when something changed.
    """
    deal = _locked(actor, deal_id)
    check_version(deal, version)
    unknown = set(data) - EDITABLE
    if unknown:
        raise DealInvalid(
            _("These fields cannot be changed."), **{name: [_("Unknown field.")] for name in sorted(unknown)}
        )
    before = _fields(deal)
    if "title" in data:
        deal.title = _clean_title(data["title"])
    if "value" in data:
        deal.value = _clean_value(data["value"])
    if "currency" in data:
        deal.currency = _clean_currency(data["currency"])
    if "probability" in data:
        deal.probability = _clean_probability(data["probability"])
    if "expected_close" in data:
        deal.expected_close = _clean_close(data["expected_close"])
    if "owner_id" in data and data["owner_id"] != deal.owner_id:
        if not access.can_assign_owner(actor):
            raise DealDenied(_("Only a manager of the team or an admin can give a deal to someone else."))
        deal.owner = _check_owner(actor, data["owner_id"], deal.customer)
        deal.team_id = deal.owner.team_id
    changes = events.diff(before, _fields(deal))
    if not changes:
        return deal
    bump_version(deal)
    deal.save()
    events.record(
        "deal.updated",
        subject=deal,
        actor=actor,
        payload=_payload(deal, changed=sorted(changes)),
        audit_action="update",
        changes=changes,
    )
    return deal


def _place_order(actor, deal: Deal, now) -> Order:
    """The deal's order, placed once: a replay (re-win after reopening) finds the order already recorded."""
    external_id = f"DEAL-{deal.pk}"
    existing = Order.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing
    order, _created = commerce.place_order(
        actor=actor,
        data=commerce.OrderData(
            customer_id=deal.customer_id,
            external_id=external_id,
            ordered_at=now,
            amount=deal.value,
            currency=deal.currency,
            lines=[commerce.LineData(quantity=Decimal(1), unit_price=deal.value, description=deal.title[:200])],
        ),
    )
    return order


def _move(actor, deal: Deal, stage: DealStage, *, lost_reason: LostReason | None = None, note: str = "") -> Deal:
    """Put a locked deal into ``stage``: stage history, closing or reopening fields, the order of a win, events."""
    if stage.pipeline_id != deal.pipeline_id:
        raise _invalid("stage_id", _("Choose a stage of the deal's pipeline."))
    if stage.pk == deal.stage_id:
        return deal
    if stage.kind == Kind.LOST and lost_reason is None:
        raise _invalid("lost_reason_id", _("Choose why the deal was lost."))
    before = _fields(deal)
    from_stage = deal.stage
    now = timezone.now()
    deal.stage = stage
    deal.stage_entered_at = now
    deal.probability = stage.probability
    if stage.kind == Kind.WON:
        deal.won_at, deal.lost_at, deal.lost_reason, deal.lost_note = now, None, None, ""
        if deal.pipeline.record_order_on_win and deal.order_id is None:
            deal.order = _place_order(actor, deal, now)
    elif stage.kind == Kind.LOST:
        deal.won_at, deal.lost_at, deal.lost_reason, deal.lost_note = None, now, lost_reason, (note or "")[:2000]
    else:
        deal.won_at, deal.lost_at, deal.lost_reason, deal.lost_note = None, None, None, ""
    bump_version(deal)
    deal.save()
    DealStageChange.objects.create(deal=deal, from_stage=from_stage, to_stage=stage, at=now, actor=actor)
    changes = events.diff(before, _fields(deal))
    moved = {"from_stage": from_stage.key, "from_stage_id": from_stage.pk, "to_stage": stage.key}
    events.record(
        "deal.stage_changed",
        subject=deal,
        actor=actor,
        payload=_payload(deal, **moved),
        audit_action="move",
        changes=changes,
    )
    if stage.kind == Kind.WON:
        events.record("deal.won", subject=deal, actor=actor, payload=_payload(deal, order_id=deal.order_id))
    elif stage.kind == Kind.LOST:
        events.record("deal.lost", subject=deal, actor=actor, payload=_payload(deal, lost_reason=lost_reason.key))
    elif from_stage.kind != Kind.OPEN:
        events.record("deal.reopened", subject=deal, actor=actor, payload=_payload(deal, **moved))
    return deal


def _lost_reason(lost_reason_id) -> LostReason | None:
    if not lost_reason_id:
        return None
    reason = LostReason.objects.filter(pk=lost_reason_id, active=True).first()
    if reason is None:
        raise _invalid("lost_reason_id", _("Choose why the deal was lost."))
    return reason


@transaction.atomic
def move_deal(
    *, actor, deal_id: int, stage_id: int, version: int | None, lost_reason_id: int | None = None, note: str = ""
) -> Deal:
    """Move a deal to another stage of its pipeline (the kanban drag). A stale ``version`` is a 409.

    Moving to the won stage wins the deal (and records its order if the pipeline says so); to the lost stage needs
    ``lost_reason_id``; from a closed stage back to an open one reopens it. Emits ``deal.stage_changed`` and
    ``deal.won`` / ``deal.lost`` / ``deal.reopened``.
    """
    deal = _locked(actor, deal_id)
    check_version(deal, version)
    stage = _stage_of(deal.pipeline_id, stage_id)
    return _move(actor, deal, stage, lost_reason=_lost_reason(lost_reason_id), note=note)


@transaction.atomic
def win_deal(*, actor, deal_id: int, version: int | None = None) -> Deal:
    """Mark a deal won. Idempotent: a deal already won is returned unchanged (no second order)."""
    deal = _locked(actor, deal_id)
    if deal.stage.kind == Kind.WON:
        return deal
    if version is not None:
        check_version(deal, version)
    stage = DealStage.objects.filter(pipeline_id=deal.pipeline_id, kind=Kind.WON).first()
    if stage is None:
        raise DealInvalid(_("This pipeline has no won stage."))
    return _move(actor, deal, stage)


@transaction.atomic
def lose_deal(*, actor, deal_id: int, lost_reason_id: int | None, note: str = "", version: int | None = None) -> Deal:
    """Mark a deal lost, with the reason (required). Idempotent on a deal already lost."""
    deal = _locked(actor, deal_id)
    reason = _lost_reason(lost_reason_id)
    if reason is None:
        raise _invalid("lost_reason_id", _("Choose why the deal was lost."))
    if deal.stage.kind == Kind.LOST:
        return deal
    if version is not None:
        check_version(deal, version)
    stage = DealStage.objects.filter(pipeline_id=deal.pipeline_id, kind=Kind.LOST).first()
    if stage is None:
        raise DealInvalid(_("This pipeline has no lost stage."))
    return _move(actor, deal, stage, lost_reason=reason, note=note)


@transaction.atomic
def reopen_deal(*, actor, deal_id: int, version: int | None = None, stage_id: int | None = None) -> Deal:
    """Put a won or lost deal back into an open stage (the last open stage it was in, unless ``stage_id``).

    The order of an earlier win stays recorded; winning again does not place a second one.
    """
    deal = _locked(actor, deal_id)
    if version is not None:
        check_version(deal, version)
    if deal.stage.kind == Kind.OPEN:
        raise DealClosed(_("This deal is open already."), stage=deal.stage.key)
    if stage_id:
        stage = _stage_of(deal.pipeline_id, stage_id)
        if stage.kind != Kind.OPEN:
            raise _invalid("stage_id", _("Choose an open stage."))
    else:
        last = (
            DealStageChange.objects.filter(deal=deal, to_stage__kind=Kind.OPEN)
            .select_related("to_stage")
            .order_by("-at", "-id")
            .first()
        )
        stage = (
            last.to_stage if last else DealStage.objects.filter(pipeline_id=deal.pipeline_id, kind=Kind.OPEN).first()
        )
    return _move(actor, deal, stage)


# Pipelines and stages: admins only ---------------------------------------------------------------------------


def _require_admin(actor) -> None:
    if access.role_of(actor) != access.ADMIN:
        raise DealDenied(_("Only admins change pipelines."))


def _stage_fields(data: dict[str, Any], stage: DealStage) -> None:
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name or len(name) > 120:
            raise PipelineInvalid(_("Enter a name."), name=[_("Enter a name of at most 120 characters.")])
        stage.name = name
    if "name_zh_hans" in data:
        stage.name_zh_hans = (data["name_zh_hans"] or "").strip()[:120]
    if "order" in data:
        if not isinstance(data["order"], int) or not 0 <= data["order"] <= 32767:
            raise PipelineInvalid(_("Enter a position."), order=[_("Enter a whole number from 0.")])
        stage.order = data["order"]
    if "probability" in data:
        try:
            stage.probability = _clean_probability(data["probability"])
        except DealInvalid as exc:
            raise PipelineInvalid(exc.message, **exc.details) from None


@transaction.atomic
def create_pipeline(*, actor, data: dict[str, Any]) -> Pipeline:
    """A new pipeline with the usual closing stages (Won 100%, Lost 0%); add open stages with ``create_stage``."""
    _require_admin(actor)
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise PipelineInvalid(_("Enter a name."), name=[_("Enter a name of at most 120 characters.")])
    if data.get("is_default"):
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = Pipeline.objects.create(
        name=name,
        name_zh_hans=(data.get("name_zh_hans") or "").strip()[:120],
        record_order_on_win=bool(data.get("record_order_on_win")),
        is_default=bool(data.get("is_default")),
    )
    DealStage.objects.bulk_create(
        [
            DealStage(
                pipeline=pipeline, key="won", name="Won", name_zh_hans="赢单", order=900, probability=100, kind=Kind.WON
            ),
            DealStage(
                pipeline=pipeline,
                key="lost",
                name="Lost",
                name_zh_hans="输单",
                order=910,
                probability=0,
                kind=Kind.LOST,
            ),
        ]
    )
    events.record(
        "pipeline.created", subject=pipeline, actor=actor, payload={"pipeline_id": pipeline.pk}, audit_action="create"
    )
    return pipeline


@transaction.atomic
def update_pipeline(*, actor, pipeline_id: int, data: dict[str, Any]) -> Pipeline:
    _require_admin(actor)
    pipeline = Pipeline.objects.select_for_update().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise PipelineNotFound(_("No pipeline with id %(id)s.") % {"id": pipeline_id})
    before = events.snapshot(pipeline, ("name", "name_zh_hans", "record_order_on_win", "is_default"))
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name or len(name) > 120:
            raise PipelineInvalid(_("Enter a name."), name=[_("Enter a name of at most 120 characters.")])
        pipeline.name = name
    if "name_zh_hans" in data:
        pipeline.name_zh_hans = (data["name_zh_hans"] or "").strip()[:120]
    if "record_order_on_win" in data:
        pipeline.record_order_on_win = bool(data["record_order_on_win"])
    if data.get("is_default") and not pipeline.is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
        pipeline.is_default = True
    changes = events.diff(before, events.snapshot(pipeline, before.keys()))
    if changes:
        pipeline.save()
        events.record(
            "pipeline.updated",
            subject=pipeline,
            actor=actor,
            payload={"pipeline_id": pipeline.pk},
            audit_action="update",
            changes=changes,
        )
    return pipeline


@transaction.atomic
def create_stage(*, actor, pipeline_id: int, data: dict[str, Any]) -> DealStage:
    """Add an open stage to a pipeline (won and lost stages exist once per pipeline)."""
    _require_admin(actor)
    pipeline = Pipeline.objects.select_for_update().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise PipelineNotFound(_("No pipeline with id %(id)s.") % {"id": pipeline_id})
    key = (data.get("key") or "").strip().lower()
    if not key or len(key) > 32 or not key.replace("_", "").replace("-", "").isalnum() or not key.isascii():
        raise PipelineInvalid(_("Enter a key."), key=[_("Letters, digits, - and _ only, at most 32.")])
    if DealStage.objects.filter(pipeline=pipeline, key=key).exists():
        raise PipelineInvalid(_("This key is used."), key=[_("This key is used in this pipeline.")])
    stage = DealStage(pipeline=pipeline, key=key, kind=Kind.OPEN)
    _stage_fields({"order": 0, "probability": 0, **data}, stage)
    if not stage.name:
        raise PipelineInvalid(_("Enter a name."), name=[_("Enter a name of at most 120 characters.")])
    stage.save()
    events.record(
        "deal_stage.created",
        subject=stage,
        actor=actor,
        payload={"pipeline_id": pipeline.pk, "stage_id": stage.pk},
        audit_action="create",
    )
    return stage


@transaction.atomic
def update_stage(*, actor, stage_id: int, data: dict[str, Any]) -> DealStage:
    """Rename a stage, move it, change its probability (open deals keep theirs until they move)."""
    _require_admin(actor)
    stage = DealStage.objects.select_for_update().filter(pk=stage_id).first()
    if stage is None:
        raise PipelineNotFound(_("No stage with id %(id)s.") % {"id": stage_id})
    before = events.snapshot(stage, ("name", "name_zh_hans", "order", "probability"))
    _stage_fields(data, stage)
    changes = events.diff(before, events.snapshot(stage, before.keys()))
    if changes:
        stage.save()
        events.record(
            "deal_stage.updated",
            subject=stage,
            actor=actor,
            payload={"pipeline_id": stage.pipeline_id, "stage_id": stage.pk},
            audit_action="update",
            changes=changes,
        )
    return stage


@transaction.atomic
def delete_stage(*, actor, stage_id: int) -> None:
    """Remove an open stage no deal is in or ever was in (the history keeps its stages)."""
    _require_admin(actor)
    stage = DealStage.objects.select_for_update().filter(pk=stage_id).first()
    if stage is None:
        raise PipelineNotFound(_("No stage with id %(id)s.") % {"id": stage_id})
    if stage.kind != Kind.OPEN:
        raise StageInUse(_("The won and lost stages cannot be removed."))
    in_history = DealStageChange.objects.filter(to_stage=stage).exists()
    if stage.deals.exists() or in_history:
        raise StageInUse(_("Deals are or were in this stage; rename it instead."))
    events.record(
        "deal_stage.deleted",
        subject=stage,
        actor=actor,
        payload={"pipeline_id": stage.pipeline_id, "stage_id": stage.pk},
        audit_action="delete",
    )
    stage.delete()
