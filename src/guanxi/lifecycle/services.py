"""Lifecycle writes: evaluating stages, and editing the stage definitions.

``evaluate_stages`` decides every customer's stage in SQL (one CASE WHEN over the active definitions, in
``position`` order: the first matching rule wins) and their funnel stage (``funnel.py``), compares with the
stored ``CustomerStage`` and writes only the differences: the new current stage, a ``StageTransition`` with the
rule that matched and the values it saw, and a ``customer.stage_changed`` event with its audit entry, whose
subscribers (automation) run in the same transaction.

A customer's *first* stage (no ``CustomerStage`` row yet: a new customer, or every customer on the first run
after installing the app) is stored with a transition from "" but without an event: it is not a change, and a
first run over an existing base must not fire every automation rule a million times.
"""

import itertools
import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, CharField, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import access, events, rules
from guanxi.core.locking import bump_version, check_version
from guanxi.lifecycle import funnel
from guanxi.lifecycle.errors import DefinitionNotFound, InvalidDefinition, NotAllowed
from guanxi.lifecycle.models import FUNNEL_ORDER, CustomerStage, Stage, StageDefinition, StageTransition

logger = logging.getLogger(__name__)
_CHUNK = 2000
_IDS_PER_PASS = 5000
_counter = itertools.count()


@dataclass(frozen=True)
class _Plan:
    definitions: list[StageDefinition]
    stage_rules: list[tuple[str, rules.Rule]]
    funnel_rules: list[tuple[int, rules.Rule]]
    fallback: str


def _plan() -> _Plan:
    definitions = list(StageDefinition.objects.filter(active=True).order_by("position", "key"))
    stage_rules = []
    for definition in definitions:
        try:
            stage_rules.append((definition.key, rules.parse(definition.rule)))
        except rules.RuleError as exc:  # saved before a field it used was unregistered: skip it, say so
            logger.warning("stage %s skipped: its rule does not parse: %s", definition.key, exc.message)
            continue
    fallback = definitions[-1].key if definitions else Stage.POTENTIAL
    return _Plan(definitions, stage_rules, funnel.funnel_rules(), fallback)


def _now(today: date | None, now: datetime | None) -> datetime:
    if now is not None:
        return now
    if today is not None:
        return timezone.make_aware(datetime.combine(today, time(23, 59, 59)))
    return timezone.now()


def _evaluation(plan: _Plan, now: datetime, customer_ids):
    """The queryset with each customer's current and computed stage, funnel rank and the facts the rules saw."""
    customers = access.visible_customers(None, system=True).order_by()
    if customer_ids is not None:
        customers = customers.filter(pk__in=list(customer_ids))
    used: set[str] = set()
    for _key, rule in [*plan.stage_rules, *plan.funnel_rules]:
        used |= rule.fields
    queryset = rules.with_fields(customers, used, now=now)
    model = queryset.model
    fact_names = sorted(name for name in {n for _k, r in plan.stage_rules for n in r.fields} if _is_scalar(name))
    current_rank = Case(
        *(When(lifecycle__funnel_stage=key, then=Value(index)) for index, key in enumerate(FUNNEL_ORDER)),
        default=Value(-1),
        output_field=IntegerField(),
    )
    queryset = queryset.annotate(
        cid=F("pk"),
        cname=F("display_name"),
        cur_stage=F("lifecycle__stage"),
        cur_since=F("lifecycle__since"),
        cur_funnel_rank=current_rank,
        new_stage=Case(
            *(When(rules.condition(rule, model=model), then=Value(key)) for key, rule in plan.stage_rules),
            default=Value(None),
            output_field=CharField(),
        )
        if plan.stage_rules
        else Value(None, output_field=CharField()),
        new_funnel_rank=Case(
            *(When(rules.condition(rule, model=model), then=Value(rank)) for rank, rule in plan.funnel_rules),
            default=Value(0),
            output_field=IntegerField(),
        ),
        **{f"f_{name}": F(f"_rule_{name}") for name in fact_names},
    )
    columns = ["cid", "cname", "cur_stage", "cur_since", "cur_funnel_rank", "new_stage", "new_funnel_rank"]
    columns += [f"f_{name}" for name in fact_names]
    return queryset.values(*columns)


def _is_scalar(name: str) -> bool:
    return next(info for info in rules.known_fields() if info.name == name).type != rules.SET


_CHANGED = (
    "q.cur_stage IS NULL OR (q.new_stage IS NOT NULL AND q.new_stage <> q.cur_stage)"
    " OR q.new_funnel_rank > q.cur_funnel_rank"
)


def _funnel_key_sql(column: str) -> str:
    whens = " ".join(f"WHEN {index} THEN '{key}'" for index, key in enumerate(FUNNEL_ORDER))
    return f"CASE {column} {whens} ELSE '{FUNNEL_ORDER[0]}' END"


def _insert_first_stages(plan: _Plan, now: datetime, source: str) -> int:
    """Customers without a stage row get their first stage and its transition, in two INSERT ... SELECTs."""
    queryset = _evaluation(plan, now, None)
    sql, params = queryset.filter(lifecycle__isnull=True).query.sql_with_params()
    stage_table = CustomerStage._meta.db_table
    transition_table = StageTransition._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {stage_table} (customer_id, stage, since, funnel_stage, funnel_since) "  # noqa: S608
            f"SELECT q.cid, COALESCE(q.new_stage, %s), %s, {_funnel_key_sql('q.new_funnel_rank')}, %s "
            # A concurrent evaluation may have come first; SQLite needs the WHERE before ON CONFLICT.
            f"FROM ({sql}) q WHERE true ON CONFLICT (customer_id) DO NOTHING",
            [plan.fallback, now, now, *params],
        )
        inserted = cursor.rowcount
        if inserted:
            cursor.execute(
                f"INSERT INTO {transition_table} (customer_id, view, from_stage, to_stage, at, reason, source) "  # noqa: S608
                f"SELECT customer_id, %s, '', stage, since, %s, %s FROM {stage_table} WHERE since = %s",
                [StageTransition.View.STAGE, _("first evaluation"), source, now],
            )
    return inserted


def _reason(key: str, rule: rules.Rule | None, row: dict) -> tuple[str, dict]:
    facts = {}
    if rule is not None:
        for name in sorted(rule.fields):
            if f"f_{name}" in row:
                value = row[f"f_{name}"]
                value = float(value) if isinstance(value, Decimal) else events.jsonable(value)
                facts[name] = round(value, 3) if isinstance(value, float) else value
    shown = ", ".join(f"{name}={value}" for name, value in facts.items())
    reason = _("rule %(key)s matched") % {"key": key} + (f" ({shown})" if shown else "")
    return reason[:255], facts


# No savepoint of its own: it runs inside the use case that triggered it (an order, an import batch), and a
# failure here rolls that use case back whole anyway.
@transaction.atomic(savepoint=False)
def evaluate_stages(
    *,
    customer_ids=None,
    today: date | None = None,
    source: str = StageTransition.Source.NIGHTLY,
    now: datetime | None = None,
    lock: bool = True,
) -> int:
    """Re-decide the lifecycle and funnel stages of ``customer_ids`` (all live customers when None).

    Returns the number of stage transitions written (first stages included, funnel moves not). Emits
    ``customer.stage_changed`` (subject the customer; payload from, to, reason, customer_id) with an audit entry
    for every change of an existing stage. Running it again over unchanged data writes nothing.
    ``lock=False`` skips locking the customers' stage rows (customers created in this very transaction).
    """
    if customer_ids is not None:
        customer_ids = sorted({int(pk) for pk in customer_ids if pk is not None})
        if not customer_ids:
            return 0
        if len(customer_ids) > _IDS_PER_PASS:  # bounded statements (SQLite's parameter limit), same result
            return sum(
                evaluate_stages(
                    customer_ids=customer_ids[start : start + _IDS_PER_PASS],
                    today=today,
                    source=source,
                    now=now or _now(today, None),
                    lock=lock,
                )
                for start in range(0, len(customer_ids), _IDS_PER_PASS)
            )
    now = _now(today, now)
    if customer_ids is not None and lock:
        # Two transactions deciding the same customer (two orders at once) take turns: the second reads the
        # stage the first wrote (READ COMMITTED) instead of writing the same change twice.
        list(
            CustomerStage.objects.select_for_update()
            .filter(customer_id__in=customer_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    plan = _plan()
    written = 0
    if customer_ids is None:
        had_stages = CustomerStage.objects.exists()
        written += _insert_first_stages(plan, now, source)
        if not had_stages:  # the first run: everyone just got their first stage, nothing can have changed
            return written
    queryset = _evaluation(plan, now, customer_ids)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) q WHERE {_CHANGED}", params)  # noqa: S608 - SQL from Django
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    if rows:
        written += _apply(plan, rows, now, source)
    return written


def _apply(plan: _Plan, rows: list[dict], now: datetime, source: str) -> int:
    from guanxi.customers.models import Customer

    by_key = dict(plan.stage_rules)
    first, moved, funnel_moves = [], [], []
    for row in rows:
        if row["cur_stage"] is None:
            first.append(row)
            continue
        if row["new_stage"] is not None and row["new_stage"] != row["cur_stage"]:
            moved.append(row)
        if row["new_funnel_rank"] > row["cur_funnel_rank"]:
            funnel_moves.append(row)

    transitions = []
    if first:
        CustomerStage.objects.bulk_create(
            [
                CustomerStage(
                    customer_id=row["cid"],
                    stage=row["new_stage"] or plan.fallback,
                    since=now,
                    funnel_stage=FUNNEL_ORDER[row["new_funnel_rank"]],
                    funnel_since=now,
                )
                for row in first
            ],
            batch_size=_CHUNK,
            ignore_conflicts=True,  # a concurrent evaluation stored this customer's first stage already
        )
        for row in first:
            key = row["new_stage"] or plan.fallback
            reason, facts = _reason(key, by_key.get(key), row)
            transitions.append(
                StageTransition(customer_id=row["cid"], to_stage=key, at=now, reason=reason, facts=facts, source=source)
            )

    if moved:
        entries = []
        for row in moved:
            reason, facts = _reason(row["new_stage"], by_key.get(row["new_stage"]), row)
            row["reason"], row["facts"] = reason, facts
            subject = Customer(pk=row["cid"], display_name=row["cname"])
            payload = {"from": row["cur_stage"], "to": row["new_stage"], "reason": reason, "customer_id": row["cid"]}
            entries.append((subject, payload, {"stage": [row["cur_stage"], row["new_stage"]]}))
        for key, group in itertools.groupby(sorted(moved, key=lambda r: r["new_stage"]), key=lambda r: r["new_stage"]):
            ids = [row["cid"] for row in group]
            for start in range(0, len(ids), _CHUNK):
                CustomerStage.objects.filter(customer_id__in=ids[start : start + _CHUNK]).update(stage=key, since=now)
        recorded = events.record_many("customer.stage_changed", entries, audit_action="update")
        for row, event in zip(moved, recorded, strict=True):
            transitions.append(
                StageTransition(
                    customer_id=row["cid"],
                    from_stage=row["cur_stage"],
                    to_stage=row["new_stage"],
                    at=now,
                    reason=row["reason"],
                    facts=row["facts"],
                    source=source,
                    event=event,
                )
            )

    if funnel_moves:
        for rank, group in itertools.groupby(
            sorted(funnel_moves, key=lambda r: r["new_funnel_rank"]), key=lambda r: r["new_funnel_rank"]
        ):
            ids = [row["cid"] for row in group]
            for start in range(0, len(ids), _CHUNK):
                CustomerStage.objects.filter(customer_id__in=ids[start : start + _CHUNK]).update(
                    funnel_stage=FUNNEL_ORDER[rank], funnel_since=now
                )
        transitions.extend(
            StageTransition(
                customer_id=row["cid"],
                view=StageTransition.View.FUNNEL,
                from_stage=FUNNEL_ORDER[row["cur_funnel_rank"]] if row["cur_funnel_rank"] >= 0 else "",
                to_stage=FUNNEL_ORDER[row["new_funnel_rank"]],
                at=now,
                reason=_("funnel rule %(key)s matched") % {"key": FUNNEL_ORDER[row["new_funnel_rank"]]},
                source=source,
            )
            for row in funnel_moves
        )
    StageTransition.objects.bulk_create(transitions, batch_size=_CHUNK)
    return len(first) + len(moved)


# ------------------------------------------------------------------------------------------------ definitions


def _require_admin(actor) -> None:
    if access.role_of(actor) != access.ADMIN:
        raise NotAllowed(_("Only administrators may change stage definitions."))


def _clean(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    if "rule" in data:
        try:
            rules.parse(data["rule"])
        except rules.RuleError as exc:
            errors["rule"] = [exc.message]
    if "name" in data and not str(data["name"]).strip():
        errors["name"] = [_("A name is required.")]
    if "key" in data:
        key = str(data["key"]).strip()
        if not key or not key.replace("_", "").isalnum() or not key.isascii() or key != key.lower():
            errors["key"] = [_("Use lower-case letters, digits and underscores.")]
        elif StageDefinition.objects.filter(key=key).exists():
            errors["key"] = [_("A stage with this key exists already.")]
    if errors:
        raise InvalidDefinition(_("The stage definition is not valid."), **errors)
    return data


_EDITABLE = ("name", "name_zh_hans", "rule", "position", "playbook", "active")


@transaction.atomic
def create_definition(*, actor, data: dict) -> StageDefinition:
    """Add a stage (admins only). The rule must parse; emits ``stage_definition.created``; re-evaluates after
    commit (``tasks.evaluate_stages_task``)."""
    _require_admin(actor)
    data = _clean({key: value for key, value in data.items() if key in (*_EDITABLE, "key")})
    for required in ("key", "name", "rule"):
        if not data.get(required):
            raise InvalidDefinition(_("The stage definition is not valid."), **{required: [_("This is required.")]})
    definition = StageDefinition.objects.create(**data)
    events.record(
        "stage_definition.created",
        subject=definition,
        actor=actor,
        payload={"key": definition.key},
        audit_action="create",
        changes={name: [None, getattr(definition, name)] for name in ("key", *_EDITABLE)},
    )
    _reevaluate_after_commit()
    return definition


@transaction.atomic
def update_definition(*, actor, definition_id: int, version: int | None, data: dict) -> StageDefinition:
    """Change a stage's name, rule, position, playbook or activity (admins only; optimistic locking).

    A rule that does not parse is refused with the parser's message under ``rule`` and nothing is saved.
    Emits ``stage_definition.updated``; re-evaluates every customer after commit.
    """
    _require_admin(actor)
    definition = StageDefinition.objects.select_for_update().filter(pk=definition_id).first()
    if definition is None:
        raise DefinitionNotFound(_("No stage definition with id %(id)s.") % {"id": definition_id})
    check_version(definition, version)
    data = _clean({key: value for key, value in data.items() if key in _EDITABLE})
    before = events.snapshot(definition, _EDITABLE)
    for name, value in data.items():
        setattr(definition, name, value)
    changes = events.diff(before, events.snapshot(definition, _EDITABLE))
    if not changes:
        return definition
    bump_version(definition)
    definition.save()
    events.record(
        "stage_definition.updated",
        subject=definition,
        actor=actor,
        payload={"key": definition.key, "fields": sorted(changes)},
        audit_action="update",
        changes=changes,
    )
    _reevaluate_after_commit()
    return definition


def _reevaluate_after_commit() -> None:
    def enqueue():
        from guanxi.lifecycle.tasks import evaluate_stages_task

        evaluate_stages_task.enqueue(source=StageTransition.Source.DEFINITIONS)

    transaction.on_commit(enqueue)


@transaction.atomic
def delete_definition(*, actor, definition_id: int, version: int | None) -> None:
    """Remove a stage (admins only). Its customers move on at the re-evaluation that follows the commit;
    their history keeps the key. Emits ``stage_definition.deleted``."""
    _require_admin(actor)
    definition = StageDefinition.objects.select_for_update().filter(pk=definition_id).first()
    if definition is None:
        raise DefinitionNotFound(_("No stage definition with id %(id)s.") % {"id": definition_id})
    check_version(definition, version)
    events.record(
        "stage_definition.deleted",
        subject=definition,
        actor=actor,
        payload={"key": definition.key},
        audit_action="delete",
        changes={name: [getattr(definition, name), None] for name in ("key", *_EDITABLE)},
    )
    definition.delete()
    _reevaluate_after_commit()
