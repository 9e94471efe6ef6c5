"""What a rule can do to a customer: the actions registry.

Each action is an ``ActionType`` with a ``clean(params)`` that validates the parameters when the rule is saved
(raising ``ParamErrors`` with a message per parameter) and a ``run(ctx, params)`` that does it, through the
owning app's service, inside the rule run's savepoint. ``run`` returns a small JSON detail for the run log.
``run_many(ctx, customer_ids, params)``, when given, does the same for many customers at once (daily rules).

The registry stays open: later apps add theirs from ``AppConfig.ready()`` (issue_offer, send_survey,
open_ticket) with ``register_action``; automation never needs to import them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.template import Context, Template, TemplateSyntaxError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from guanxi.accounts.models import Team, User
from guanxi.automation.models import EmailTemplate, Rule, RuleRun
from guanxi.core.models import Event
from guanxi.customers.models import Customer


class ParamErrors(Exception):
    """``errors`` maps a parameter name to its problems."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class ActionFailed(Exception):
    """An action that cannot be done for this customer (no owner, no author with the right to assign)."""


@dataclass(frozen=True)
class ActionContext:
    rule: Rule
    customer: Customer | None
    event: Event | None
    today: date


@dataclass(frozen=True)
class ActionType:
    key: str
    label: Any
    help: Any
    clean: Callable[[dict[str, Any]], dict[str, Any]]
    run: Callable[[ActionContext, dict[str, Any]], dict[str, Any]]
    run_many: Callable[[ActionContext, list[int], dict[str, Any]], dict[str, Any]] | None = None
    example: dict[str, Any] = field(default_factory=dict)


_registry: dict[str, ActionType] = {}


def register_action(action: ActionType) -> None:
    """Make ``action.key`` usable in rules' action lists (registering again replaces it)."""
    _registry[action.key] = action


def get(key: str) -> ActionType | None:
    return _registry.get(key)


def registered() -> list[ActionType]:
    return sorted(_registry.values(), key=lambda a: a.key)


# ----------------------------------------------------------------------------------------------- parameter checks


class _Params:
    """Collects the problems of one action's parameters, then raises them all at once."""

    def __init__(self, params: dict[str, Any], allowed: set[str]):
        self.params = params
        self.errors: dict[str, list[str]] = {}
        self.clean: dict[str, Any] = {}
        for name in sorted(set(params) - allowed - {"type"}):
            self.errors.setdefault(name, []).append(_("Unknown parameter."))

    def text(self, name: str, *, required: bool = False, max_length: int = 200, default: str = "") -> str:
        value = self.params.get(name, default)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors.setdefault(name, []).append(_("Must be text."))
            return ""
        value = value.strip()
        if required and not value:
            self.errors.setdefault(name, []).append(_("This parameter is required."))
        elif len(value) > max_length:
            self.errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": max_length})
        self.clean[name] = value
        return value

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self.params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.errors.setdefault(name, []).append(
                _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
            )
            return default
        self.clean[name] = value
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, default: str) -> str:
        value = self.params.get(name, default)
        if value not in choices:
            self.errors.setdefault(name, []).append(_("One of: %(choices)s.") % {"choices": ", ".join(choices)})
            return default
        self.clean[name] = value
        return value

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise ParamErrors(self.errors)
        return self.clean


# ----------------------------------------------------------------------------------------------- follow-ups


def _dedupe_key(rule: Rule) -> str:
    return f"rule:{rule.pk}"


def _clean_follow_up(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"title", "due_in_days", "priority", "note"})
    p.text("title", required=True, max_length=200)
    p.integer("due_in_days", default=0, low=0, high=365)
    p.choice("priority", ("normal", "urgent"), default="normal")
    p.text("note", max_length=2000)
    return p.done()


def _run_follow_up(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.followups import services as followups

    follow_up = followups.create_follow_up(
        actor=None,
        customer_id=ctx.customer.pk,
        title=params["title"],
        due_on=ctx.today + timedelta(days=params.get("due_in_days", 0)),
        priority=params.get("priority", "normal"),
        source="automation",
        note=params.get("note", ""),
        rule_id=ctx.rule.pk,
        dedupe_key=_dedupe_key(ctx.rule),
    )
    return {"follow_up_id": follow_up.pk}


def _clean_cadence(params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.followups.models import CadencePolicy

    p = _Params(params, {"policy"})
    key = p.text("policy", required=True, max_length=50)
    if key and not CadencePolicy.objects.filter(key=key, active=True).exists():
        p.errors.setdefault("policy", []).append(_("No active cadence policy with this key."))
    return p.done()


def _run_cadence(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.followups import services as followups

    tasks = followups.start_cadence(
        customer_id=ctx.customer.pk, policy_key=params["policy"], anchor_on=ctx.today, actor=None, rule_id=ctx.rule.pk
    )
    return {"follow_up_ids": [task.pk for task in tasks]}


def _clean_nothing(params: dict[str, Any]) -> dict[str, Any]:
    return _Params(params, set()).done()


def _run_return_visits(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    return _return_visits_for(ctx, [ctx.customer.pk])


def _return_visits_for(ctx: ActionContext, customer_ids: list[int], params: dict[str, Any] | None = None) -> dict:
    from guanxi.followups import services as followups

    planned = followups.plan_return_visits(today=ctx.today, customer_ids=customer_ids, actor=None, rule_id=ctx.rule.pk)
    return {"planned": planned}


# ----------------------------------------------------------------------------------------------- owner and tags


def _clean_assign(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"user", "strategy"})
    username = p.text("user", max_length=150)
    strategy = p.choice("strategy", ("user", "round_robin"), default="user" if username else "")
    if strategy == "user" and not username:
        p.errors.setdefault("user", []).append(_("Name a user, or choose the round_robin strategy."))
    if username and strategy == "round_robin":
        p.errors.setdefault("user", []).append(_("Round robin picks the user; leave this empty."))
    if username and not User.objects.filter(username=username, is_active=True, role__in=("sales", "manager")).exists():
        p.errors.setdefault("user", []).append(_("No active sales rep or manager with this username."))
    return p.done()


def _next_in_round(ctx: ActionContext) -> User:
    reps = list(User.objects.filter(team_id=ctx.customer.team_id, role=User.Role.SALES, is_active=True).order_by("pk"))
    if not reps:
        raise ActionFailed(_("The customer's team has no active sales rep."))
    # The rep this rule assigned last, from its recent run log (one rule's round, not the team's pool rule).
    last_id = 0
    recent = RuleRun.objects.filter(rule=ctx.rule, status=RuleRun.Status.MATCHED).order_by("-id")
    for detail in recent.values_list("detail", flat=True)[:50]:
        assigned = [a.get("assigned_to") for a in (detail or {}).get("actions", []) if a.get("assigned_to")]
        if assigned:
            last_id = assigned[-1]
            break
    return next((rep for rep in reps if rep.pk > last_id), reps[0])


def _run_assign(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.ownership import services as ownership

    author = ctx.rule.created_by
    if author is None or not author.is_active:
        raise ActionFailed(_("Assigning owners acts with the rights of the rule's author, and it has none."))
    if params.get("strategy") == "round_robin":
        owner = _next_in_round(ctx)
    else:
        owner = User.objects.filter(username=params["user"], is_active=True).first()
        if owner is None:
            raise ActionFailed(_("No active user %(name)s.") % {"name": params["user"]})
    ownership.assign_customer(
        actor=author, customer_id=ctx.customer.pk, user_id=owner.pk, note=f"automation rule #{ctx.rule.pk}"
    )
    return {"assigned_to": owner.pk}


def _clean_tag(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"tag"})
    p.text("tag", required=True, max_length=50)
    return p.done()


def _run_add_tag(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.customers import services as customers

    customers.change_tags(actor=None, customer_id=ctx.customer.pk, add=[params["tag"]], system=True)
    return {"tag": params["tag"]}


def _run_remove_tag(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.customers import services as customers

    customers.change_tags(actor=None, customer_id=ctx.customer.pk, remove=[params["tag"]], system=True)
    return {"tag": params["tag"]}


# ----------------------------------------------------------------------------------------------- e-mail, webhooks


LANGUAGES = ("en", "zh-hans")


def template_context(customer: Customer) -> dict[str, Any]:
    """What a template may use. Plain values only: a template written in the browser must not reach into the
    models (``customer.owner.password``)."""
    owner = customer.owner
    return {
        "customer": {
            "display_name": customer.display_name,
            "given_name": customer.given_name,
            "family_name": customer.family_name,
            "company": customer.company,
            "region": customer.region,
        },
        "owner": {
            "name": (owner.get_full_name() or owner.get_username()) if owner else "",
            "email": owner.email if owner else "",
        },
    }


def render_template(text: str, context: dict[str, Any]) -> str:
    return Template(text).render(Context(context, autoescape=False))


def check_template_text(text: str) -> str | None:
    """The syntax error of a template's text, or None."""
    try:
        Template(text)
    except TemplateSyntaxError as exc:
        return str(exc)
    return None


def _clean_email(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"template", "language"})
    key = p.text("template", required=True, max_length=64)
    p.choice("language", LANGUAGES, default="en")
    if key and not EmailTemplate.objects.filter(key=key).exists():
        p.errors.setdefault("template", []).append(_("No e-mail template with this key."))
    return p.done()


def _run_email(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.integrations import services as integrations
    from guanxi.privacy.services import may_contact

    customer = ctx.customer
    if not may_contact(customer, "email_marketing"):
        return {"sent": False, "reason": "no_consent"}
    if not customer.emails:
        return {"sent": False, "reason": "no_address"}
    template = EmailTemplate.objects.filter(key=params["template"]).first()
    if template is None:
        raise ActionFailed(_("The e-mail template %(key)s no longer exists.") % {"key": params["template"]})
    chinese = params.get("language") == "zh-hans" and template.subject_zh_hans and template.body_zh_hans
    subject, body = (
        (template.subject_zh_hans, template.body_zh_hans) if chinese else (template.subject_en, template.body_en)
    )
    context = template_context(customer)
    queued = integrations.send_templated_email(
        to=customer.emails[0],
        subject=render_template(subject, context).strip().replace("\n", " "),
        body=render_template(body, context),
        customer=customer,
        channel="email_marketing",  # the privacy channel of marketing e-mail (privacy.Channel)
    )
    return {"sent": bool(queued), "template": template.key}


def _clean_webhook(params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.core.errors import GuanxiError
    from guanxi.integrations import services as integrations

    p = _Params(params, {"url", "secret"})
    url = p.text("url", required=True, max_length=500)
    secret = p.text("secret", max_length=200)
    if url:
        if not url.startswith(("https://", "http://")):
            p.errors.setdefault("url", []).append(_("An http or https address."))
        else:
            try:
                integrations.check_destination(url)
            except GuanxiError as exc:
                p.errors.setdefault("url", []).append(exc.message)
    if secret and not secret.startswith("whsec_"):
        p.errors.setdefault("secret", []).append(_("A signing secret starts with whsec_."))
    return p.done()


def _run_webhook(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.integrations import services as integrations

    delivery = integrations.queue_webhook(
        url=params["url"],
        event_type="automation.rule_matched",
        payload={
            "rule_id": ctx.rule.pk,
            "rule": ctx.rule.name,
            "customer_id": ctx.customer.pk,
            "event_id": ctx.event.pk if ctx.event else None,
            "event_type": ctx.event.type if ctx.event else ctx.rule.trigger,
        },
        event_id=ctx.event.pk if ctx.event else None,
        secret=params.get("secret") or None,
    )
    return {"delivery_id": delivery.pk}


# ----------------------------------------------------------------------------------------------- notifications


def _clean_notify(params: dict[str, Any]) -> dict[str, Any]:
    p = _Params(params, {"to", "user", "message"})
    to = p.choice("to", ("owner", "team_managers", "user"), default="owner")
    username = p.text("user", max_length=150)
    p.text("message", max_length=300)
    if to == "user" and not User.objects.filter(username=username, is_active=True).exists():
        p.errors.setdefault("user", []).append(_("No active user with this username."))
    if to != "user" and username:
        p.errors.setdefault("user", []).append(_("Only with to = user."))
    return p.done()


def _run_notify(ctx: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    from guanxi.notifications.services import notify

    customer = ctx.customer
    to = params.get("to", "owner")
    if to == "owner":
        recipients = [customer.owner] if customer.owner_id else []
    elif to == "team_managers":
        team = Team.objects.filter(pk=customer.team_id).first() if customer.team_id else None
        recipients = list(team.managers.filter(is_active=True).order_by("pk")) if team else []
    else:
        recipients = list(User.objects.filter(username=params["user"], is_active=True))
    # A message typed into the rule is shown as written: its % signs are not placeholders.
    message = params.get("message", "").replace("%", "%%") or gettext_noop("Rule “%(rule)s” matched %(customer)s.")
    sent = [
        n.user_id
        for n in (
            notify(
                user,
                "automation.rule",
                message,
                f"/customers/{customer.pk}/",
                params={"rule": ctx.rule.name, "customer": customer.display_name},
            )
            for user in recipients
        )
        if n is not None
    ]
    return {"notified": sent}


for _action in (
    ActionType(
        "create_follow_up",
        gettext_lazy("Create a follow-up for the owner"),
        gettext_lazy("title (required), due_in_days (0-365), priority (normal or urgent), note"),
        _clean_follow_up,
        _run_follow_up,
        example={"type": "create_follow_up", "title": "Call back", "due_in_days": 3, "priority": "normal"},
    ),
    ActionType(
        "start_cadence",
        gettext_lazy("Start a cadence of follow-ups"),
        gettext_lazy("policy: the key of a sequence cadence policy, e.g. new_customer"),
        _clean_cadence,
        _run_cadence,
        example={"type": "start_cadence", "policy": "new_customer"},
    ),
    ActionType(
        "plan_return_visits",
        gettext_lazy("Plan return visits by tier, segment and stage"),
        gettext_lazy("no parameters; uses the interval cadence policies"),
        _clean_nothing,
        _run_return_visits,
        run_many=_return_visits_for,
        example={"type": "plan_return_visits"},
    ),
    ActionType(
        "assign_owner",
        gettext_lazy("Assign the owner"),
        gettext_lazy("user (a username) or strategy: round_robin among the team's reps; acts as the rule's author"),
        _clean_assign,
        _run_assign,
        example={"type": "assign_owner", "strategy": "round_robin"},
    ),
    ActionType(
        "add_tag",
        gettext_lazy("Add a tag"),
        gettext_lazy("tag (required)"),
        _clean_tag,
        _run_add_tag,
        example={"type": "add_tag", "tag": "vip"},
    ),
    ActionType(
        "remove_tag",
        gettext_lazy("Remove a tag"),
        gettext_lazy("tag (required)"),
        _clean_tag,
        _run_remove_tag,
        example={"type": "remove_tag", "tag": "lead"},
    ),
    ActionType(
        "send_email",
        gettext_lazy("Send an e-mail from a template (only with consent)"),
        gettext_lazy("template (a template key), language (en or zh-hans)"),
        _clean_email,
        _run_email,
        example={"type": "send_email", "template": "membership_invitation", "language": "en"},
    ),
    ActionType(
        "call_webhook",
        gettext_lazy("Call a webhook"),
        gettext_lazy("url (required, public address), secret (whsec_..., optional)"),
        _clean_webhook,
        _run_webhook,
        example={"type": "call_webhook", "url": "https://example.com/hook"},
    ),
    ActionType(
        "notify",
        gettext_lazy("Notify in the app"),
        gettext_lazy("to: owner, team_managers or user (with user: a username); message (optional)"),
        _clean_notify,
        _run_notify,
        example={"type": "notify", "to": "team_managers"},
    ),
):
    register_action(_action)
