"""Every write to automation rules and e-mail templates (admins and managers).

A rule is checked as a whole before anything is saved: its condition is parsed with the rule language
(``rules.RuleError``, 400 ``invalid_rule``, saying where), its trigger must be a known one and each action's
parameters are validated by the action (``RuleInvalid``, 422, ``details`` per ``actions.<n>.<parameter>``).
Emits ``automation.rule_created`` / ``_updated`` / ``_deleted`` and ``automation.template_saved`` with audit
entries. Saving clears this process's rule cache (other processes see the change within
``engine.CACHE_SECONDS``).
"""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.automation import actions as registry
from guanxi.automation import engine, triggers
from guanxi.automation.errors import AutomationDenied, RuleInvalid, RuleNotFound, TemplateInvalid, TemplateNotFound
from guanxi.automation.models import EmailTemplate, Rule
from guanxi.core import access, events
from guanxi.core.locking import bump_version, check_version

RULE_FIELDS = ("name", "name_zh_hans", "description", "trigger", "condition", "actions", "active", "position")
TEMPLATE_FIELDS = ("key", "name", "subject_en", "body_en", "subject_zh_hans", "body_zh_hans")
MAX_ACTIONS = 20
MAX_CONDITION = 2000


def can_manage(user) -> bool:
    return access.role_of(user) in (access.ADMIN, access.MANAGER)


def ensure_manager(user) -> None:
    if not can_manage(user):
        raise AutomationDenied(_("Only admins and managers manage automation rules."))


def check_condition(text: str):
    """Parse ``text`` (empty: every customer); raises ``rules.RuleError`` (400, ``invalid_rule``) with where."""
    if len(text) > MAX_CONDITION:
        raise RuleInvalid(
            _("The rule is not valid."), condition=[_("At most %(n)d characters.") % {"n": MAX_CONDITION}]
        )
    return engine.rule_language().parse(text) if text.strip() else None


def clean_actions(value: Any) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Validate a list of actions; returns the cleaned list and the problems per ``actions.<n>.<param>``."""
    errors: dict[str, list[str]] = {}
    if not isinstance(value, list) or not value:
        return [], {"actions": [_("At least one action.")]}
    if len(value) > MAX_ACTIONS:
        return [], {"actions": [_("At most %(n)d actions.") % {"n": MAX_ACTIONS}]}
    clean: list[dict[str, Any]] = []
    for index, action in enumerate(value):
        if not isinstance(action, dict):
            errors[f"actions.{index}"] = [_("Each action is an object with a type.")]
            continue
        kind = registry.get(action.get("type") or "")
        if kind is None:
            known = ", ".join(a.key for a in registry.registered())
            errors[f"actions.{index}.type"] = [_("Unknown action; one of: %(known)s.") % {"known": known}]
            continue
        try:
            params = kind.clean({k: v for k, v in action.items() if k != "type"})
        except registry.ParamErrors as exc:
            for name, messages in exc.errors.items():
                errors[f"actions.{index}.{name}"] = [str(m) for m in messages]
            continue
        clean.append({"type": kind.key, **params})
    return clean, errors


def clean_rule(data: dict[str, Any], *, current: Rule | None = None) -> dict[str, Any]:
    """The rule's fields checked; raises RuleError for the condition, RuleInvalid for the rest."""
    errors: dict[str, list[str]] = {name: [_("Unknown field.")] for name in sorted(set(data) - set(RULE_FIELDS))}
    condition = data.get("condition", current.condition if current else "")
    if not isinstance(condition, str):
        errors["condition"] = [_("Must be text.")]
    else:
        check_condition(condition)  # RuleError propagates: 400 invalid_rule with the position
    clean: dict[str, Any] = {k: data[k] for k in RULE_FIELDS if k in data}
    for name, limit, required in (("name", 200, True), ("name_zh_hans", 200, False), ("description", 2000, False)):
        if name not in data and current is not None:
            continue
        value = data.get(name) or ""
        if not isinstance(value, str):
            errors[name] = [_("Must be text.")]
        elif required and not value.strip():
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
        else:
            clean[name] = value.strip()
    if ("trigger" in data or current is None) and not triggers.known(data.get("trigger") or ""):
        errors["trigger"] = [_("Choose one of the listed triggers.")]
    if "actions" in data or current is None:
        clean["actions"], action_errors = clean_actions(data.get("actions"))
        errors.update(action_errors)
    if "active" in data and not isinstance(data["active"], bool):
        errors["active"] = [_("Must be true or false.")]
    if "position" in data and (
        isinstance(data["position"], bool)
        or not isinstance(data["position"], int)
        or not 0 <= data["position"] <= 10_000
    ):
        errors["position"] = [_("A whole number from 0 to 10000.")]
    if errors:
        raise RuleInvalid(_("The rule is not valid."), **errors)
    return clean


def _forget_cache() -> None:
    engine.invalidate()
    transaction.on_commit(engine.invalidate)


@transaction.atomic
def create_rule(*, actor: User, data: dict[str, Any]) -> Rule:
    """Save a new rule (admins and managers). The rule's actions that act on someone's behalf (assign_owner)
    act with the author's rights. Emits ``automation.rule_created``."""
    ensure_manager(actor)
    clean = clean_rule(data)
    rule = Rule.objects.create(created_by=actor, **clean)
    events.record(
        "automation.rule_created",
        subject=rule,
        actor=actor,
        payload={"trigger": rule.trigger},
        audit_action="create",
        changes={name: [None, events.jsonable(getattr(rule, name))] for name in clean},
    )
    _forget_cache()
    return rule


def _locked(actor: User, rule_id: int) -> Rule:
    ensure_manager(actor)
    rule = Rule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise RuleNotFound(_("No rule with id %(id)s.") % {"id": rule_id})
    return rule


@transaction.atomic
def update_rule(*, actor: User, rule_id: int, version: int | None, data: dict[str, Any]) -> Rule:
    """Change some fields of a rule if ``version`` is the stored one (else 409, nothing changes). Emits
    ``automation.rule_updated`` with the changed fields."""
    rule = _locked(actor, rule_id)
    check_version(rule, version)
    clean = clean_rule(data, current=rule)
    before = events.snapshot(rule, clean)
    for name, value in clean.items():
        setattr(rule, name, value)
    changes = events.diff(before, events.snapshot(rule, clean))
    if not changes:
        return rule
    bump_version(rule)
    rule.save()
    events.record(
        "automation.rule_updated",
        subject=rule,
        actor=actor,
        payload={"fields": sorted(changes), "version": rule.version},
        audit_action="update",
        changes=changes,
    )
    _forget_cache()
    return rule


@transaction.atomic
def delete_rule(*, actor: User, rule_id: int, version: int | None) -> None:
    """Delete a rule and its run log (deactivate it instead to keep the log). Emits ``automation.rule_deleted``."""
    rule = _locked(actor, rule_id)
    check_version(rule, version)
    events.record(
        "automation.rule_deleted",
        subject=rule,
        actor=actor,
        payload={"name": rule.name, "playbook": rule.playbook},
        audit_action="delete",
        changes={"name": [rule.name, None]},
    )
    rule.delete()
    _forget_cache()


def clean_template(data: dict[str, Any], *, current: EmailTemplate | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {name: [_("Unknown field.")] for name in sorted(set(data) - set(TEMPLATE_FIELDS))}
    limits = {"key": 64, "name": 200, "subject_en": 200, "body_en": 20_000, "subject_zh_hans": 200}
    limits["body_zh_hans"] = 20_000
    required = {"key", "name", "subject_en", "body_en"}
    clean: dict[str, Any] = {}
    for name in TEMPLATE_FIELDS:
        if name not in data and current is not None:
            continue
        value = data.get(name) or ""
        if not isinstance(value, str):
            errors[name] = [_("Must be text.")]
            continue
        value = value.strip()
        if name in required and not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limits[name]:
            errors[name] = [_("At most %(n)d characters.") % {"n": limits[name]}]
        elif name == "key" and not value.replace("_", "").replace("-", "").isalnum():
            errors[name] = [_("Letters, digits, - and _ only.")]
        elif name != "key" and (problem := registry.check_template_text(value)):
            errors[name] = [_("Template error: %(problem)s") % {"problem": problem}]
        else:
            clean[name] = value
    key = clean.get("key")
    if key and EmailTemplate.objects.filter(key=key).exclude(pk=current.pk if current else None).exists():
        errors["key"] = [_("Another template has this key.")]
    if errors:
        raise TemplateInvalid(_("The template is not valid."), **errors)
    return clean


@transaction.atomic
def save_template(
    *, actor: User, data: dict[str, Any], template_id: int | None = None, version: int | None = None
) -> EmailTemplate:
    """Create a template, or change one if ``version`` is the stored one. Emits ``automation.template_saved``."""
    ensure_manager(actor)
    template = None
    if template_id is not None:
        template = EmailTemplate.objects.select_for_update().filter(pk=template_id).first()
        if template is None:
            raise TemplateNotFound(_("No template with id %(id)s.") % {"id": template_id})
        check_version(template, version)
    clean = clean_template(data, current=template)
    before = events.snapshot(template, clean) if template else {}
    if template is None:
        template = EmailTemplate.objects.create(**clean)
    else:
        for name, value in clean.items():
            setattr(template, name, value)
        if not events.diff(before, events.snapshot(template, clean)):
            return template
        bump_version(template)
        template.save()
    events.record(
        "automation.template_saved",
        subject=template,
        actor=actor,
        payload={"key": template.key, "version": template.version},
        audit_action="update" if before else "create",
        changes=events.diff(before, events.snapshot(template, clean)),
    )
    return template
