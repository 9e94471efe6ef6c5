"""Recording domain events and their audit entries.

``record`` must be called inside the service's transaction: the event, the audit entry and the change commit
or roll back together. Side effects that leave the process (e-mail, webhooks) are started from
``transaction.on_commit`` by the consumers, never here.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from guanxi.core.context import current_origin
from guanxi.core.models import AuditEntry, Event


class NotInTransaction(RuntimeError):
    pass


ANY = "*"  # subscribe(ANY, handler): every event type (webhook endpoints, automation), after the typed handlers
Handler = Callable[[Event], None]
BatchHandler = Callable[[list[Event]], None]
_handlers: dict[str, list[Handler]] = {}
_batch_forms: dict[Handler, BatchHandler] = {}


def subscribe(event_type: str, handler: Handler, *, many: BatchHandler | None = None) -> None:
    """Call ``handler(event)`` whenever ``event_type`` is recorded, inside the same transaction.

    For reactions that must commit or roll back with the change (auto-assigning a new customer's owner,
    re-evaluating a lifecycle stage). A handler that raises rolls the whole use case back. Anything that
    leaves the process belongs in ``transaction.on_commit`` inside the handler. Apps subscribe in
    ``AppConfig.ready()``; subscribing the same handler twice is harmless.

    ``many``, if given, is the batch form of ``handler``: ``record_many`` calls ``many(events)`` once instead of
    ``handler(event)`` for each event. It must have the same effect as calling ``handler`` on each event in order.
    """
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)
    if many is not None:
        _batch_forms[handler] = many


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    if type(value) in _PLAIN:  # the common case first: a bulk import calls this for every field of every row
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, set | frozenset | tuple):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` in JSON form, for before/after comparisons."""
    return {name: jsonable(getattr(instance, name)) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value changed."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def record(
    event_type: str,
    *,
    subject: models.Model,
    actor=None,
    payload: Mapping[str, Any] | None = None,
    audit_action: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> Event:
    """Append one event, and one audit entry when ``audit_action`` is given, in the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction("record() must run inside the service's transaction")
    now = timezone.now()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    subject_type = subject._meta.label_lower
    event = Event.objects.create(
        type=event_type,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject.pk,
        payload=jsonable(dict(payload or {})),
        occurred_at=now,
    )
    if audit_action:
        origin = current_origin()
        AuditEntry.objects.create(
            event=event,
            actor=actor,
            actor_label=actor.get_username() if actor else origin.via,
            action=audit_action,
            subject_type=subject_type,
            subject_id=subject.pk,
            subject_label=str(subject)[:255],
            changes=jsonable(dict(changes or {})),
            ip_address=origin.ip_address,
            at=now,
        )
    _run_handlers(event_type, [event])
    return event


def record_many(
    event_type: str,
    entries: Sequence[tuple[models.Model, Mapping[str, Any] | None, Mapping[str, Any] | None]],
    *,
    actor=None,
    audit_action: str | None = None,
) -> list[Event]:
    """``record`` for many subjects at once: ``entries`` are ``(subject, payload, changes)``.

    Writes the same rows as calling ``record(event_type, subject=..., actor=actor, payload=...,
    audit_action=audit_action, changes=...)`` for each entry in order, with two bulk inserts (events, then audit
    entries), and then runs each subscriber once per event (or once with all of them, through its batch form).
    Returns the events in the order of ``entries``. Must run inside the service's transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction("record_many() must run inside the service's transaction")
    if not entries:
        return []
    now = timezone.now()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    recorded = Event.objects.bulk_create(
        [
            Event(
                type=event_type,
                actor=actor,
                subject_type=subject._meta.label_lower,
                subject_id=subject.pk,
                payload=jsonable(dict(payload or {})),
                occurred_at=now,
            )
            for subject, payload, _changes in entries
        ]
    )
    if any(event.pk is None for event in recorded):  # every backend we support returns the new keys
        raise RuntimeError("bulk_create did not return the events' primary keys")
    if audit_action:
        origin = current_origin()
        actor_label = actor.get_username() if actor else origin.via
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    event=event,
                    actor=actor,
                    actor_label=actor_label,
                    action=audit_action,
                    subject_type=event.subject_type,
                    subject_id=subject.pk,
                    subject_label=str(subject)[:255],
                    changes=jsonable(dict(changes or {})),
                    ip_address=origin.ip_address,
                    at=now,
                )
                for event, (subject, _payload, changes) in zip(recorded, entries, strict=True)
            ]
        )
    _run_handlers(event_type, recorded)
    return recorded


def dispatch(recorded: Sequence[Event]) -> None:
    """Run the subscribers of events that were written in bulk without ``record`` (e.g. by a scoring run).

    Groups the events by type, keeping their order within a type, and calls each subscriber as ``record_many``
    would. Must run inside the transaction that wrote them.
    """
    if not transaction.get_connection().in_atomic_block:
        raise NotInTransaction("dispatch() must run inside the transaction that wrote the events")
    by_type: dict[str, list[Event]] = {}
    for event in recorded:
        by_type.setdefault(event.type, []).append(event)
    for event_type, events_of_type in by_type.items():
        _run_handlers(event_type, events_of_type)


def _run_handlers(event_type: str, recorded: list[Event]) -> None:
    for handler in (*_handlers.get(event_type, ()), *_handlers.get(ANY, ())):
        many = _batch_forms.get(handler)
        if many is not None:
            many(recorded)
        else:
            for event in recorded:
                handler(event)
