"""The rule engine: reacts to domain events inside the transaction that recorded them.

For every event (``events.subscribe(events.ANY, ...)``) it finds the active rules whose trigger is the event's
type, resolves the event's customers (the subject when it is a customer, else ``payload["customer_id"]`` or
``payload["customer_ids"]``), decides all those rules' conditions with one query per chunk of customers
(``matching_many``), runs the matched rules' actions and writes a ``RuleRun`` per rule and customer.

Transactions: the actions run in the caller's transaction, so an order, the stage change it causes and the
welcome follow-up commit or roll back together. Each rule run is a savepoint: an action that fails rolls back
that run's actions only and is logged as ``failed``; the use case that raised the event (the order) still
commits. Nothing here leaves the process: e-mails and webhooks are queued by their services after commit.

Loop guard: a context variable holds the chain of (rule, customer) pairs running now and its depth. An event
raised by an action that would run a rule again for the same customer in the same chain, or a chain deeper
than ``MAX_DEPTH`` rules, is logged as ``loop_guarded`` and not run.

Active rules are cached per process for ``CACHE_SECONDS`` (their conditions parsed once); the services clear
the cache of the process that saves a rule, other processes see the change within that time.
"""

import logging
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.automation import actions as registry
from guanxi.automation.models import SCHEDULE_DAILY, Rule, RuleRun
from guanxi.core.errors import GuanxiError
from guanxi.core.models import Event
from guanxi.customers.models import Customer

logger = logging.getLogger(__name__)

MAX_DEPTH = 5
CACHE_SECONDS = 5.0
CHUNK = 500
# A batch event counts as the trigger of its single form (an import's orders.placed fires "order placed" rules).
ALIASES = {"orders.placed": "order.placed"}
CUSTOMER_SUBJECT = "customers.customer"
# Events that correct records rather than report what a customer did: a stage that moves because two records
# were merged (or the merge undone) must not start a welcome cadence that the undo cannot take back.
IGNORED_SOURCES = frozenset({"merge"})


@dataclass(frozen=True)
class Chain:
    pairs: frozenset[tuple[int, int]] = frozenset()
    depth: int = 0


_chain: ContextVar[Chain] = ContextVar("automation_chain", default=Chain())  # noqa: B039 - frozen


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    parsed: Any  # rules.Rule, or None for an empty condition
    error: str = ""  # a stored condition that no longer parses (a field was removed)


_cache: dict[str, Any] = {"loaded_at": 0.0, "by_trigger": None}


def invalidate() -> None:
    """Forget the cached rules (called by the services when a rule changes, and by tests)."""
    _cache["by_trigger"] = None


def rule_language():
    """``guanxi.core.rules``, imported when first needed."""
    from guanxi.core import rules

    return rules


def compile_rule(rule: Rule) -> CompiledRule:
    if not rule.condition.strip():
        return CompiledRule(rule, None)
    try:
        return CompiledRule(rule, rule_language().parse(rule.condition))
    except GuanxiError as exc:
        return CompiledRule(rule, None, error=exc.message)


def rules_for(trigger: str) -> list[CompiledRule]:
    by_trigger = _cache["by_trigger"]
    if by_trigger is None or time.monotonic() - _cache["loaded_at"] > CACHE_SECONDS:
        by_trigger = {}
        for rule in Rule.objects.filter(active=True).select_related("created_by").order_by("position", "pk"):
            by_trigger.setdefault(rule.trigger, []).append(compile_rule(rule))
        _cache["by_trigger"], _cache["loaded_at"] = by_trigger, time.monotonic()
    return by_trigger.get(trigger, [])


def customers_of(event: Event) -> list[int]:
    if event.subject_type == CUSTOMER_SUBJECT and event.subject_id is not None:
        return [event.subject_id]
    payload = event.payload or {}
    found = payload.get("customer_id")
    if isinstance(found, int) and not isinstance(found, bool):
        return [found]
    many = payload.get("customer_ids")
    if isinstance(many, list):
        return [c for c in many if isinstance(c, int) and not isinstance(c, bool)]
    return []


# ----------------------------------------------------------------------------------------------- event reactions


def on_event(event: Event) -> None:
    on_events([event])


def on_events(recorded: Sequence[Event]) -> None:
    """The batch form: every event of one type (``record_many``, ``dispatch``).

    All rules of the trigger decide their conditions on the state the event left, in one query, before any of
    them acts; then the matched ones run in position order, each customer in event order. Skipped and
    loop-guarded runs are written with one insert.
    """
    if not recorded:
        return
    event_type = recorded[0].type
    compiled_rules = rules_for(event_type)
    if event_type in ALIASES:
        compiled_rules = [*compiled_rules, *rules_for(ALIASES[event_type])]
    if not compiled_rules:
        return
    pairs = [
        (event, customer_id)
        for event in recorded
        if (event.payload or {}).get("source") not in IGNORED_SOURCES
        for customer_id in customers_of(event)
    ]
    if not pairs:
        return
    chain, quiet = _chain.get(), []
    candidates: dict[int, list[tuple[Event, int]]] = {}
    for compiled in compiled_rules:
        rule = compiled.rule
        for event, customer_id in pairs:
            if (rule.pk, customer_id) in chain.pairs or chain.depth >= MAX_DEPTH:
                reason = "same_rule_and_customer" if (rule.pk, customer_id) in chain.pairs else "depth_limit"
                detail = {"reason": reason, "depth": chain.depth}
                quiet.append(_run(rule, event, customer_id, RuleRun.Status.LOOP_GUARDED, detail))
            elif compiled.error:
                detail = {"error": compiled.error, "code": "invalid_rule"}
                quiet.append(_run(rule, event, customer_id, RuleRun.Status.FAILED, detail))
            else:
                candidates.setdefault(rule.pk, []).append((event, customer_id))
    live = [c for c in compiled_rules if c.rule.pk in candidates]
    matched = matching_many(live, {cid for found in candidates.values() for _e, cid in found}) if live else {}
    today = timezone.localdate()
    for compiled in live:
        for event, customer_id in candidates[compiled.rule.pk]:
            if customer_id in matched[compiled.rule.pk]:
                run_actions(compiled.rule, customer_id, event=event, today=today)
            else:
                quiet.append(_run(compiled.rule, event, customer_id, RuleRun.Status.SKIPPED, {}))
    if quiet:
        RuleRun.objects.bulk_create(quiet)


def matching_many(compiled_rules: Sequence[CompiledRule], customer_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each rule, the live customers among ``customer_ids`` meeting its condition: one query per chunk of
    customers for all the rules (a CASE per rule over the fields they use)."""
    language = rule_language()
    found: dict[int, set[int]] = {c.rule.pk: set() for c in compiled_rules}
    conditional = [c for c in compiled_rules if c.parsed is not None]
    used: set[str] = set()
    for compiled in conditional:
        used |= compiled.parsed.fields
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        customers = Customer.objects.filter(deleted_at__isnull=True, pk__in=chunk)
        flags = {
            f"rule_{c.rule.pk}": Case(
                When(language.condition(c.parsed, model=Customer), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
            for c in conditional
        }
        if flags:
            customers = language.with_fields(customers.order_by(), used).annotate(**flags)
        for row in customers.values("pk", *flags):
            for compiled in compiled_rules:
                if compiled.parsed is None or row[f"rule_{compiled.rule.pk}"]:
                    found[compiled.rule.pk].add(row["pk"])
    return found


def _run(rule: Rule, event: Event | None, customer_id: int | None, status: str, detail: dict) -> RuleRun:
    return RuleRun(
        rule=rule,
        event_id=event.pk if event else None,
        event_type=event.type if event else rule.trigger,
        customer_id=customer_id,
        status=status,
        detail=detail,
        at=timezone.now(),
    )


def run_actions(rule: Rule, customer_id: int, *, event: Event | None, today: date) -> RuleRun:
    """Run ``rule``'s actions for one customer in a savepoint, inside the chain; log the run."""
    chain = _chain.get()
    token = _chain.set(Chain(chain.pairs | {(rule.pk, customer_id)}, chain.depth + 1))
    results: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            customer = Customer.objects.select_related("owner").get(pk=customer_id)
            context = registry.ActionContext(rule=rule, customer=customer, event=event, today=today)
            for action in rule.actions or []:
                results.append({"type": action.get("type"), **_do(action, context)})
    except Exception as exc:
        detail = _failure(exc, len(results), rule.actions or [])
        status = RuleRun.Status.FAILED
    else:
        detail, status = {"actions": results}, RuleRun.Status.MATCHED
    finally:
        _chain.reset(token)
    detail["depth"] = chain.depth + 1
    run = _run(rule, event, customer_id, status, detail)
    run.save()
    return run


def _do(action: dict[str, Any], context: registry.ActionContext) -> dict[str, Any]:
    kind = registry.get(action.get("type", ""))
    if kind is None:
        raise registry.ActionFailed(_("Unknown action %(type)s.") % {"type": action.get("type")})
    params = {k: v for k, v in action.items() if k != "type"}
    return kind.run(context, params) or {}


def _failure(exc: Exception, index: int, actions: list[dict[str, Any]]) -> dict[str, Any]:
    action_type = actions[index].get("type") if index < len(actions) else None
    if isinstance(exc, GuanxiError):
        return {"error": exc.message, "code": exc.code, "action": index, "type": action_type}
    if isinstance(exc, registry.ActionFailed):
        return {"error": str(exc), "code": "action_failed", "action": index, "type": action_type}
    logger.exception("automation action %s failed", action_type)
    return {
        "error": f"{type(exc).__name__}: {exc}"[:500],
        "code": "internal_error",
        "action": index,
        "type": action_type,
    }


# ----------------------------------------------------------------------------------------------- daily rules


def run_daily(today: date | None = None) -> dict[str, int]:
    """Run every active ``schedule.daily`` rule over the live customers matching its condition, a chunk of
    customers per transaction. Actions with a batch form (plan_return_visits) run once per chunk and log one run
    for the chunk; the others run and log per customer. Returns ``{rule key: customers matched}``."""
    today = today or timezone.localdate()
    summary: dict[str, int] = {}
    rules = Rule.objects.filter(active=True, trigger=SCHEDULE_DAILY).select_related("created_by")
    for rule in rules.order_by("position", "pk"):
        compiled = compile_rule(rule)
        if compiled.error:
            with transaction.atomic():
                _run(rule, None, None, RuleRun.Status.FAILED, {"error": compiled.error, "code": "invalid_rule"}).save()
            continue
        customers = Customer.objects.filter(deleted_at__isnull=True)
        if compiled.parsed is not None:
            customers = rule_language().filter_customers(customers, compiled.parsed)
        ids = sorted(set(customers.values_list("pk", flat=True)))
        batch = all(
            (kind := registry.get(a.get("type", ""))) is not None and kind.run_many is not None
            for a in rule.actions or []
        )
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with transaction.atomic():
                if batch:
                    _run_chunk(rule, chunk, today)
                else:
                    for customer_id in chunk:
                        run_actions(rule, customer_id, event=None, today=today)
        summary[rule.playbook or f"rule:{rule.pk}"] = len(ids)
    return summary


def _run_chunk(rule: Rule, chunk: list[int], today: date) -> RuleRun:
    chain = _chain.get()
    token = _chain.set(Chain(chain.pairs | {(rule.pk, cid) for cid in chunk}, chain.depth + 1))
    results: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            context = registry.ActionContext(rule=rule, customer=None, event=None, today=today)
            for action in rule.actions or []:
                kind = registry.get(action["type"])
                params = {k: v for k, v in action.items() if k != "type"}
                results.append({"type": action["type"], **(kind.run_many(context, chunk, params) or {})})
    except Exception as exc:
        detail, status = _failure(exc, len(results), rule.actions or []), RuleRun.Status.FAILED
    else:
        detail, status = {"actions": results}, RuleRun.Status.MATCHED
    finally:
        _chain.reset(token)
    detail.update(customers=len(chunk), first_customer_ids=chunk[:20])
    run = _run(rule, None, None, status, detail)
    run.save()
    return run
