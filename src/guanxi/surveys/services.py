"""Every write of the surveys app: surveys and their questions, invitations (secret links), responses.

- Invitations store only the SHA-256 of their token; the token goes out in the e-mail (after commit) or in the
  API answer, never stored. At most one open invitation per customer and survey (a partial unique constraint):
  an after-ticket survey replaces the customer's older open one; a segment survey skips customers who have one.
- ``submit_response`` locks the invitation (``select_for_update``; on SQLite the IMMEDIATE transaction queues
  writers), so of two submissions of one link exactly one writes; the other gets ``AlreadyAnswered`` and writes
  nothing. Emits ``survey.answered``, and ``survey.detractor`` for NPS 0-6 or CSAT 1-2 in the same transaction
  (automation's default rule opens an urgent follow-up for the owner).
"""

import hashlib
import logging
import secrets
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version
from guanxi.customers.models import Customer
from guanxi.surveys import scoring, text
from guanxi.surveys.errors import (
    AlreadyAnswered,
    AnswersInvalid,
    InvitationExpired,
    InvitationNotFound,
    SurveyDenied,
    SurveyInvalid,
    SurveyNotFound,
)
from guanxi.surveys.models import Answer, Invitation, Question, Response, Survey

logger = logging.getLogger(__name__)

SURVEY_FIELDS = ("key", "name", "name_zh_hans", "intro", "intro_zh_hans", "kind", "active", "audience",
                 "interval_days", "expiry_days")  # fmt: skip
QUESTION_FIELDS = ("kind", "text", "text_zh_hans", "required", "choices", "scale_min", "scale_max", "low_label",
                   "low_label_zh_hans", "high_label", "high_label_zh_hans")  # fmt: skip
MAX_QUESTIONS = 30
MAX_TEXT_ANSWER = 2000
MAX_INVITATIONS = 500
CONSENT_CHANNEL = "surveys"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def can_manage(user) -> bool:
    return access.role_of(user) in (access.ADMIN, access.MANAGER)


def _ensure_manager(user) -> None:
    if not can_manage(user):
        raise SurveyDenied(_("Only admins and managers manage surveys."))


# ----------------------------------------------------------------------------------------------- surveys


def check_audience(value: str):
    """Parse an audience rule (empty: every customer); raises ``rules.RuleError`` (400, ``invalid_rule``)."""
    from guanxi.core import rules

    if len(value) > 2000:
        raise SurveyInvalid(_("The survey is not valid."), audience=[_("At most %(n)d characters.") % {"n": 2000}])
    return rules.parse(value) if value.strip() else None


def _clean_survey(data: dict[str, Any], errors: dict[str, list[str]], current: Survey | None) -> dict[str, Any]:
    clean = {name: data[name] for name in SURVEY_FIELDS if name in data}
    for name, limit in (("key", 50), ("name", 200), ("name_zh_hans", 200), ("intro", 4000), ("intro_zh_hans", 4000)):
        if name in clean:
            value = clean[name]
            if not isinstance(value, str) or "\x00" in value:
                errors.setdefault(name, []).append(_("Must be text."))
                continue
            clean[name] = value.strip()
            if len(clean[name]) > limit:
                errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": limit})
    if current is None:
        for name in ("key", "name"):
            if not clean.get(name):
                errors.setdefault(name, []).append(_("This field is required."))
    key = clean.get("key")
    if key is not None:
        from django.core.validators import validate_slug

        try:
            validate_slug(key)
        except Exception:
            errors.setdefault("key", []).append(_("Letters, digits, hyphens and underscores only."))
        if Survey.objects.filter(key=key).exclude(pk=getattr(current, "pk", None)).exists():
            errors.setdefault("key", []).append(_("Another survey has this key."))
    if "kind" in clean and clean["kind"] not in Survey.Kind.values:
        errors.setdefault("kind", []).append(_("Unknown kind."))
    for name, low, high in (("interval_days", 1, 3650), ("expiry_days", 1, 365)):
        if name in clean:
            value = clean[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors.setdefault(name, []).append(
                    _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
                )
    if "active" in clean:
        clean["active"] = bool(clean["active"])
    if "audience" in clean:
        if not isinstance(clean["audience"], str):
            errors.setdefault("audience", []).append(_("Must be text."))
        else:
            clean["audience"] = clean["audience"].strip()
            check_audience(clean["audience"])  # RuleError: 400 invalid_rule with the position
    return clean


def _clean_question(index: int, data: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    where = f"questions.{index}"
    if not isinstance(data, dict):
        errors.setdefault(where, []).append(_("Each question is an object."))
        return {}
    q = {name: data[name] for name in QUESTION_FIELDS if name in data}
    if q.get("kind") not in Question.Kind.values:
        errors.setdefault(f"{where}.kind", []).append(_("Unknown kind."))
    for name, limit in (("text", 500), ("text_zh_hans", 500), ("low_label", 100), ("low_label_zh_hans", 100),
                        ("high_label", 100), ("high_label_zh_hans", 100)):  # fmt: skip
        value = q.get(name, "")
        if not isinstance(value, str) or "\x00" in value:
            errors.setdefault(f"{where}.{name}", []).append(_("Must be text."))
            continue
        q[name] = value.strip()
        if len(q[name]) > limit:
            errors.setdefault(f"{where}.{name}", []).append(_("At most %(n)d characters.") % {"n": limit})
    if not q.get("text"):
        errors.setdefault(f"{where}.text", []).append(_("This field is required."))
    q["required"] = bool(q.get("required", True))
    if q.get("kind") in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
        choices = q.get("choices")
        ok = isinstance(choices, list) and 2 <= len(choices) <= 30
        clean_choices = []
        for choice in choices if ok else []:
            if isinstance(choice, str):
                choice = {"value": choice, "label": choice}
            if not isinstance(choice, dict) or not str(choice.get("value") or "").strip():
                ok = False
                break
            clean_choices.append(
                {
                    "value": str(choice["value"]).strip()[:100],
                    "label": str(choice.get("label") or choice["value"]).strip()[:200],
                    "label_zh_hans": str(choice.get("label_zh_hans") or "").strip()[:200],
                }
            )
        if not ok or len({c["value"] for c in clean_choices}) != len(clean_choices):
            errors.setdefault(f"{where}.choices", []).append(_("Between 2 and 30 choices with distinct values."))
        q["choices"] = clean_choices
    else:
        q["choices"] = []
    if q.get("kind") == Question.Kind.SCALE:
        low, high = q.get("scale_min", 1), q.get("scale_max", 5)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)) or not 0 <= low < high <= 10:
            errors.setdefault(f"{where}.scale_min", []).append(_("A scale from 0-9 to 1-10, low below high."))
    return q


def _save_questions(survey: Survey, questions: list[dict[str, Any]]) -> None:
    """Replace the survey's questions; a question that already has answers is kept (hidden answers stay true)."""
    existing = list(survey.questions.all())
    answered = set(Answer.objects.filter(question__survey=survey).values_list("question_id", flat=True).distinct())
    if answered:
        raise SurveyInvalid(
            _("This survey has responses: its questions can no longer change. Copy it into a new survey."),
            questions=[_("The survey has responses.")],
        )
    Question.objects.filter(pk__in=[q.pk for q in existing]).delete()
    Question.objects.bulk_create([Question(survey=survey, position=i, **q) for i, q in enumerate(questions)])


def _validated(data: dict[str, Any], current: Survey | None) -> tuple[dict, list | None]:
    errors: dict[str, list[str]] = {}
    clean = _clean_survey(data, errors, current)
    questions = None
    if "questions" in data:
        raw = data["questions"]
        if not isinstance(raw, list) or not raw or len(raw) > MAX_QUESTIONS:
            errors.setdefault("questions", []).append(_("Between 1 and %(n)d questions.") % {"n": MAX_QUESTIONS})
        else:
            questions = [_clean_question(i, q, errors) for i, q in enumerate(raw)]
    elif current is None:
        errors.setdefault("questions", []).append(_("At least one question."))
    if errors:
        raise SurveyInvalid(_("The survey is not valid."), **errors)
    return clean, questions


@transaction.atomic
def create_survey(*, actor, data: dict[str, Any]) -> Survey:
    """A survey with its questions (``data["questions"]``, a list). Emits ``survey.created``."""
    _ensure_manager(actor)
    clean, questions = _validated(data, None)
    survey = Survey.objects.create(created_by=actor, **clean)
    _save_questions(survey, questions or [])
    events.record("survey.created", subject=survey, actor=actor, payload={"key": survey.key}, audit_action="create")
    return survey


@transaction.atomic
def update_survey(*, actor, survey_id: int, data: dict[str, Any], version: int | None = None) -> Survey:
    """Change a survey's fields and (until it has responses) its questions. Emits ``survey.updated``."""
    _ensure_manager(actor)
    survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
    if survey is None:
        raise SurveyNotFound(_("No such survey."))
    check_version(survey, version)
    clean, questions = _validated(data, survey)
    before = events.snapshot(survey, clean.keys())
    for name, value in clean.items():
        setattr(survey, name, value)
    bump_version(survey)
    survey.save()
    if questions is not None:
        _save_questions(survey, questions)
    changes = events.diff(before, events.snapshot(survey, clean.keys()))
    if questions is not None:
        changes["questions"] = [None, len(questions)]
    events.record(
        "survey.updated", subject=survey, actor=actor, payload={"fields": sorted(changes)}, audit_action="update",
        changes=changes,
    )  # fmt: skip
    return survey


def after_ticket_survey() -> Survey | None:
    return Survey.objects.filter(kind=Survey.Kind.AFTER_TICKET, active=True).order_by("pk").first()


# ----------------------------------------------------------------------------------------------- invitations


def link_for(token: str) -> str:
    path = reverse("surveys_public:form", args=[token])
    return f"{settings.GUANXI_BASE_URL.rstrip('/')}{path}" if settings.GUANXI_BASE_URL else path


def preferred_language(customer: Customer) -> str:
    """The customer's language when recorded (custom field ``language``), else "" (the browser decides)."""
    value = str((customer.custom_fields or {}).get("language") or "").lower()
    if value.startswith("zh") or value in ("chinese", "中文"):
        return "zh-hans"
    if value.startswith("en") or value == "english":
        return "en"
    return ""


def _first_email(customer: Customer) -> str:
    emails = customer.emails or []
    return str(emails[0]) if emails else ""


def _new_invitation(survey, customer, *, now, actor=None, ticket_id=None, agent_id=None, team_id=None):
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        survey=survey,
        customer=customer,
        ticket_id=ticket_id,
        agent_id=agent_id,
        team_id=team_id,
        token_digest=digest(token),
        language=preferred_language(customer),
        email=_first_email(customer),
        sent_at=now,
        expires_at=now + timedelta(days=survey.expiry_days),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return invitation, token


def _close_stale(survey: Survey, customer_ids: list[int], now) -> None:
    """Mark past-expiry open invitations expired, so a fresh one may be created."""
    Invitation.objects.filter(
        survey=survey, customer_id__in=customer_ids, status=Invitation.Status.OPEN, expires_at__lte=now
    ).update(status=Invitation.Status.EXPIRED)


def _mail_after_commit(pairs: list[tuple[Invitation, str]]) -> None:
    messages = []
    for invitation, token in pairs:
        if not invitation.email:
            continue
        language = invitation.language or settings.LANGUAGE_CODE
        context = {
            "survey": invitation.survey,
            "customer_name": invitation.customer.display_name,
            "link": link_for(token),
            "expires_at": invitation.expires_at,
        }
        with translation.override(language):
            subject = _("%(survey)s: a few questions") % {"survey": invitation.survey.display_name}
            body = render_to_string("surveys/invitation_email.txt", context)
        # Both languages when the customer's is unknown: a Chinese customer reads the Chinese half.
        if not invitation.language:
            with translation.override("zh-hans"):
                body += "\n\n----\n\n" + render_to_string("surveys/invitation_email.txt", context)
        messages.append(EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email]))
    if not messages:
        return

    def send() -> None:
        try:
            get_connection().send_messages(messages)
        except Exception:  # the invitation exists and can be re-sent; a mail outage must not break anything
            logger.exception("Could not e-mail %d survey invitations", len(messages))

    transaction.on_commit(send)


def _record_sent(pairs: list[tuple[Invitation, str]], actor) -> None:
    events.record_many(
        "survey.invitation_sent",
        [
            (inv, {"customer_id": inv.customer_id, "survey_id": inv.survey_id, "ticket_id": inv.ticket_id}, None)
            for inv, _token in pairs
        ],
        actor=actor,
    )


@transaction.atomic
def invite(*, actor, survey_id: int, customer_ids: list[int]) -> list[tuple[Invitation, str]]:
    """Invite customers the actor can see to a survey; returns each new invitation with its token (the link).

    Customers who already have an open invitation to this survey are skipped (one open link each); the link is
    e-mailed after commit to those with an e-mail address. Emits ``survey.invitation_sent`` per invitation.
    """
    if access.role_of(actor) not in (access.ADMIN, access.MANAGER, access.SALES, access.SUPPORT):
        raise SurveyDenied(_("You cannot send surveys."))
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        raise SurveyNotFound(_("No such survey."))
    if not survey.active:
        raise SurveyInvalid(_("The survey is not active."), survey=[_("Activate the survey first.")])
    ids = sorted({int(i) for i in customer_ids})
    if not ids or len(ids) > MAX_INVITATIONS:
        raise SurveyInvalid(
            _("Between 1 and %(n)d customers.") % {"n": MAX_INVITATIONS}, customer_ids=[_("Wrong number.")]
        )
    customers = list(access.visible_customers(actor).filter(pk__in=ids).order_by("pk"))
    if len(customers) != len(ids):
        from guanxi.customers.errors import CustomerNotFound

        raise CustomerNotFound(_("No such customer."))
    now = timezone.now()
    _close_stale(survey, ids, now)
    taken = set(
        Invitation.objects.filter(survey=survey, customer_id__in=ids, status=Invitation.Status.OPEN).values_list(
            "customer_id", flat=True
        )
    )
    pairs = [_new_invitation(survey, c, now=now, actor=actor) for c in customers if c.pk not in taken]
    Invitation.objects.bulk_create([inv for inv, _token in pairs])
    _record_sent(pairs, actor)
    _mail_after_commit(pairs)
    return pairs


def on_ticket_resolved(event) -> None:
    """``ticket.resolved``: invite the customer to the active after-ticket survey (agent = the assignee, team =
    the queue's team), replacing an older open invitation of theirs; e-mail the link after commit. Customers who
    withdrew their survey consent are not asked."""
    payload = event.payload or {}
    survey = after_ticket_survey()
    customer = Customer.objects.filter(pk=payload.get("customer_id"), deleted_at__isnull=True).first()
    if survey is None or customer is None:
        return
    from guanxi.privacy.services import current_status

    if current_status(customer, CONSENT_CHANNEL) == "withdrawn":
        return
    now = timezone.now()
    Invitation.objects.filter(survey=survey, customer=customer, status=Invitation.Status.OPEN).update(
        status=Invitation.Status.SUPERSEDED
    )
    invitation, token = _new_invitation(
        survey,
        customer,
        now=now,
        ticket_id=payload.get("ticket_id"),
        agent_id=payload.get("assignee_id"),
        team_id=payload.get("team_id"),
    )
    invitation.save()
    _record_sent([(invitation, token)], None)
    _mail_after_commit([(invitation, token)])


@transaction.atomic
def send_segment_surveys(*, today: date | None = None) -> dict[str, int]:
    """The daily job: for every active segment survey, invite the customers matching its audience who have an
    e-mail address, granted survey consent, no open invitation to it and none sent within its interval.
    Returns invitations sent per survey key."""
    from guanxi.core import rules

    now = timezone.now()
    sent: dict[str, int] = {}
    for survey in Survey.objects.filter(kind=Survey.Kind.SEGMENT, active=True).order_by("pk"):
        customers = access.visible_customers(None, system=True).exclude(emails=[])
        if survey.audience.strip():
            try:
                customers = rules.filter_customers(customers, rules.parse(survey.audience), now=now)
            except rules.RuleError:  # a field the rule names was removed since it was saved
                logger.warning("Survey %s: its audience rule no longer parses; skipped", survey.key)
                continue
        Consent = apps.get_model("privacy", "Consent")
        latest = Consent.objects.filter(customer=OuterRef("pk"), channel=CONSENT_CHANNEL).order_by(
            "-recorded_at", "-id"
        )
        recent = Invitation.objects.filter(survey=survey, customer=OuterRef("pk")).filter(
            Q(sent_at__gte=now - timedelta(days=survey.interval_days))
            | Q(status=Invitation.Status.OPEN, expires_at__gt=now)
        )
        customers = (
            customers.annotate(consent=Subquery(latest.values("status")[:1]))
            .filter(consent="granted")
            .exclude(Exists(recent))
        )
        chosen = list(customers.order_by("pk"))
        if not chosen:
            sent[survey.key] = 0
            continue
        _close_stale(survey, [c.pk for c in chosen], now)
        pairs = [_new_invitation(survey, c, now=now) for c in chosen]
        Invitation.objects.bulk_create([inv for inv, _token in pairs], batch_size=500)
        _record_sent(pairs, None)
        _mail_after_commit(pairs)
        sent[survey.key] = len(pairs)
    return sent


# ----------------------------------------------------------------------------------------------- responses


def invitation_for_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation of a link, or the error the public page shows: not valid (404), expired (410), answered
    (409). Reads only."""
    if not token or len(token) > 100:
        raise InvitationNotFound(_("This survey link is not valid."))
    invitations = Invitation.objects.select_related("survey", "customer")
    if for_update:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_digest=digest(token)).first()
    if invitation is None or invitation.customer.deleted_at is not None:
        raise InvitationNotFound(_("This survey link is not valid."))
    if invitation.status == Invitation.Status.ANSWERED:
        raise AlreadyAnswered(_("This survey has already been answered. Thank you!"))
    if invitation.is_expired() or (not invitation.survey.active and invitation.survey.kind != Survey.Kind.MANUAL):
        raise InvitationExpired(_("This survey link has expired."))
    return invitation


def _as_int(raw: Any) -> int | None:
    if isinstance(raw, list):
        raw = raw[0] if len(raw) == 1 else None
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


def clean_answers(questions: list[Question], raw: dict[str, Any]) -> tuple[dict[int, Any], dict[str, list[str]]]:
    """Each question's value from the submitted ``q<id>`` fields, and a message per question that is wrong."""
    values: dict[int, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in questions:
        name = f"q{question.pk}"
        given = raw.get(name)
        if isinstance(given, list) and question.kind != Question.Kind.MULTIPLE:
            given = given[0] if given else None
        empty = given is None or given == "" or given == []
        if empty:
            if question.required:
                errors[name] = [_("Please answer this question.")]
            continue
        if question.kind == Question.Kind.TEXT:
            value = str(given).replace("\x00", "").strip()
            if len(value) > MAX_TEXT_ANSWER:
                errors[name] = [_("At most %(n)d characters.") % {"n": MAX_TEXT_ANSWER}]
            elif value:
                values[question.pk] = value
            elif question.required:
                errors[name] = [_("Please answer this question.")]
        elif question.kind == Question.Kind.SINGLE:
            if str(given) not in {c["value"] for c in question.choices}:
                errors[name] = [_("Please choose one of the options.")]
            else:
                values[question.pk] = str(given)
        elif question.kind == Question.Kind.MULTIPLE:
            chosen = [str(v) for v in (given if isinstance(given, list) else [given])]
            allowed = {c["value"] for c in question.choices}
            if not set(chosen) <= allowed:
                errors[name] = [_("Please choose among the options.")]
            else:
                values[question.pk] = [c["value"] for c in question.choices if c["value"] in set(chosen)]
        else:
            low, high = question.bounds
            number = _as_int(given)
            if number is None or not low <= number <= high:
                errors[name] = [_("Choose a number from %(low)d to %(high)d.") % {"low": low, "high": high}]
            else:
                values[question.pk] = number
    return values, errors


def _classification(customer_id: int) -> dict[str, str]:
    score = (
        apps.get_model("segments", "CustomerScore")
        .objects.filter(customer_id=customer_id)
        .values("segment", "abc_tier")
        .first()
    )
    stage = apps.get_model("lifecycle", "CustomerStage").objects.filter(customer_id=customer_id).values("stage").first()
    return {
        "segment": (score or {}).get("segment") or "",
        "tier": (score or {}).get("abc_tier") or "",
        "stage": (stage or {}).get("stage") or "",
    }


def _event_payload(response: Response) -> dict[str, Any]:
    return {
        "customer_id": response.customer_id,
        "response_id": response.pk,
        "survey_id": response.survey_id,
        "survey": response.survey.key,
        "ticket_id": response.ticket_id,
        "agent_id": response.agent_id,
        "team_id": response.team_id,
        "nps": response.nps,
        "csat": response.csat,
        "ces": response.ces,
        "sentiment": response.sentiment,
    }


@transaction.atomic
def submit_response(*, token: str, answers: dict[str, Any], language: str = "") -> Response:
    """Record the answers to a survey link, once. Raises ``InvitationNotFound`` / ``InvitationExpired`` /
    ``AlreadyAnswered`` / ``AnswersInvalid`` (a message per question) and then writes nothing.

    Scores: the survey's first NPS, CSAT and CES questions; the comment is its text answers joined, with
    keywords and a sentiment score. Emits ``survey.answered``, and ``survey.detractor`` for NPS 0-6 or CSAT 1-2.
    """
    invitation = invitation_for_token(token, for_update=True)
    survey = invitation.survey
    questions = list(survey.questions.all())
    values, errors = clean_answers(questions, answers)
    if errors:
        raise AnswersInvalid(_("Some answers need your attention."), **errors)
    scores: dict[str, int | None] = {"nps": None, "csat": None, "ces": None}
    comments = []
    for question in questions:
        value = values.get(question.pk)
        if value is None:
            continue
        if question.kind in scores and scores[question.kind] is None:
            scores[question.kind] = value
        elif question.kind == Question.Kind.TEXT:
            comments.append(value)
    comment = "\n\n".join(comments)
    now = timezone.now()
    try:
        with transaction.atomic():
            response = Response.objects.create(
                invitation=invitation,
                survey=survey,
                customer=invitation.customer,
                ticket_id=invitation.ticket_id,
                agent_id=invitation.agent_id,
                team_id=invitation.team_id,
                answered_at=now,
                language=language[:10],
                comment=comment,
                sentiment=text.sentiment(comment),
                keywords=text.keywords(comment),
                **scores,
                **_classification(invitation.customer_id),
            )
    except IntegrityError as exc:  # the other submission won the race (the one-to-one on invitation)
        raise AlreadyAnswered(_("This survey has already been answered. Thank you!")) from exc
    Answer.objects.bulk_create([Answer(response=response, question_id=qid, value=v) for qid, v in values.items()])
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.ANSWERED, answered_at=now)
    payload = _event_payload(response)
    events.record("survey.answered", subject=response, payload=payload, audit_action="create")
    if scoring.is_detractor(nps=response.nps, csat=response.csat):
        events.record("survey.detractor", subject=response, payload=payload)
    return response
