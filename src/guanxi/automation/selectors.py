"""Every read of automation rules, runs and templates (admins and managers), and the dry run.

The dry run starts from ``access.visible_customers(user)``: a manager sees only which of their customers a rule
would touch, even though the rule itself acts on every customer.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.automation.errors import RuleNotFound, TemplateNotFound
from guanxi.automation.models import EmailTemplate, Rule, RuleRun
from guanxi.automation.services import check_condition, ensure_manager
from guanxi.core import access

COUNT_DAYS = 30
DRY_RUN_LIMIT = 50


def rules(user) -> QuerySet:
    """Rules with their last run and the runs per status in the last ``COUNT_DAYS`` days."""
    ensure_manager(user)
    since = timezone.now() - timedelta(days=COUNT_DAYS)
    recent = Q(runs__at__gte=since)
    return Rule.objects.annotate(
        last_run_at=Max("runs__at"),
        matched_count=Count("runs", filter=recent & Q(runs__status=RuleRun.Status.MATCHED)),
        skipped_count=Count("runs", filter=recent & Q(runs__status=RuleRun.Status.SKIPPED)),
        failed_count=Count("runs", filter=recent & Q(runs__status=RuleRun.Status.FAILED)),
        guarded_count=Count("runs", filter=recent & Q(runs__status=RuleRun.Status.LOOP_GUARDED)),
    ).order_by("position", "pk")


def get_rule(user, rule_id: int) -> Rule:
    ensure_manager(user)
    rule = Rule.objects.select_related("created_by").filter(pk=rule_id).first()
    if rule is None:
        raise RuleNotFound(_("No rule with id %(id)s.") % {"id": rule_id})
    return rule


def runs(user, *, rule_id: int | None = None, status: str = "") -> QuerySet:
    """The run log, newest first; the customers' names only for customers the user may see."""
    ensure_manager(user)
    found = RuleRun.objects.select_related("rule")
    if rule_id is not None:
        found = found.filter(rule_id=rule_id)
    if status:
        found = found.filter(status=status)
    return found.order_by("-at", "-id")


def visible_names(user, customer_ids) -> dict[int, str]:
    ids = {cid for cid in customer_ids if cid}
    return dict(access.visible_customers(user).filter(pk__in=ids).values_list("pk", "display_name"))


@dataclass(frozen=True)
class DryRun:
    total: int
    customers: list[dict]


def dry_run(user, condition: str) -> DryRun:
    """Which customers (of those ``user`` may see) meet ``condition`` now: the count and the first 50.

    Writes nothing. Raises ``rules.RuleError`` when the condition does not parse.
    """
    ensure_manager(user)
    parsed = check_condition(condition)
    from guanxi.automation.engine import rule_language

    customers = access.visible_customers(user)
    if parsed is not None:
        customers = rule_language().filter_customers(customers, parsed)
    customers = customers.order_by("pk")
    total = customers.count()
    rows = list(customers.values("id", "display_name", "owner_id")[:DRY_RUN_LIMIT])
    return DryRun(total, rows)


def templates(user) -> QuerySet:
    ensure_manager(user)
    return EmailTemplate.objects.order_by("key")


def get_template(user, template_id: int) -> EmailTemplate:
    ensure_manager(user)
    template = EmailTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise TemplateNotFound(_("No template with id %(id)s.") % {"id": template_id})
    return template
