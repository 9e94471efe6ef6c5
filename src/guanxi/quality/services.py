"""Writes of the service-quality app: training sessions recorded against an agent (the coaching view)."""

from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.core import access, events
from guanxi.quality import selectors
from guanxi.quality.errors import QualityDenied, TrainingInvalid, TrainingNotFound
from guanxi.quality.models import TrainingSession
from guanxi.tickets.models import TicketCategory

TOPIC_LIMIT = 200
NOTES_LIMIT = 4000


def _payload(session: TrainingSession) -> dict[str, Any]:
    return {
        "training_session_id": session.pk,
        "agent_id": session.agent_id,
        "topic": session.topic,
        "category": session.category.key if session.category_id else None,
        "held_on": session.held_on.isoformat(),
        "trainer_id": session.trainer_id,
    }


@transaction.atomic
def record_training_session(*, actor, data: dict) -> TrainingSession:
    """Record a training an agent received. Managers for the agents of the teams they lead, admins for anyone.

    ``data``: agent_id, topic, held_on (date), category (key, optional), trainer_id (optional), notes.
    An agent outside the actor's teams is not found (404). Emits ``training_session.recorded``."""
    if access.role_of(actor) not in selectors.COACH_ROLES:
        raise QualityDenied(_("Only managers and admins record training sessions."))
    agent = selectors.get_agent(actor, data.get("agent_id") or 0)
    errors: dict[str, list[str]] = {}
    topic = str(data.get("topic") or "").strip()
    if not topic:
        errors["topic"] = [_("This field is required.")]
    elif len(topic) > TOPIC_LIMIT:
        errors["topic"] = [_("At most %(n)s characters.") % {"n": TOPIC_LIMIT}]
    notes = str(data.get("notes") or "").strip()
    if len(notes) > NOTES_LIMIT:
        errors["notes"] = [_("At most %(n)s characters.") % {"n": NOTES_LIMIT}]
    held_on = data.get("held_on")
    if not isinstance(held_on, date):
        errors["held_on"] = [_("Enter a valid date.")]
    category = None
    if data.get("category"):
        category = TicketCategory.objects.filter(key=data["category"]).first()
        if category is None:
            errors["category"] = [_("Unknown category.")]
    trainer = None
    if data.get("trainer_id"):
        trainer = User.objects.filter(pk=data["trainer_id"], is_active=True).first()
        if trainer is None:
            errors["trainer_id"] = [_("Unknown trainer.")]
    if errors:
        raise TrainingInvalid(_("The training session is not valid."), **errors)
    session = TrainingSession.objects.create(
        agent=agent,
        topic=topic,
        category=category,
        held_on=held_on,
        trainer=trainer,
        notes=notes,
        created_by=actor,
    )
    events.record(
        "training_session.recorded",
        subject=session,
        actor=actor,
        payload=_payload(session),
        audit_action="create",
        changes=events.snapshot(session, ("agent_id", "topic", "category_id", "held_on", "trainer_id", "notes")),
    )
    return session


@transaction.atomic
def delete_training_session(*, actor, session_id: int) -> None:
    """Remove a training session recorded by mistake (same permission as recording). Emits
    ``training_session.deleted``."""
    if access.role_of(actor) not in selectors.COACH_ROLES:
        raise QualityDenied(_("Only managers and admins record training sessions."))
    session = selectors.training_sessions(actor).select_for_update(of=("self",)).filter(pk=session_id).first()
    if session is None:
        raise TrainingNotFound(_("No training session with id %(id)s.") % {"id": session_id})
    payload = _payload(session)
    events.record("training_session.deleted", subject=session, actor=actor, payload=payload, audit_action="delete")
    session.delete()
