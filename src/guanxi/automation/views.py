"""Automation pages (admins and managers; others get 403): rules, their run log, the dry run, e-mail templates.
Thin: parse, call one service or selector, render; the dry run answers HTMX with a fragment."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.automation import actions, selectors, services
from guanxi.automation.forms import RuleForm, TemplateForm
from guanxi.automation.helptext import options
from guanxi.automation.models import RuleRun
from guanxi.core.errors import GuanxiError, NotFound
from guanxi.core.pagination import paginate
from guanxi.core.rules import RuleError


def manager_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.can_manage(request.user):
            raise Forbidden(_("Only admins and managers manage automation rules."))
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapped


def _offset(value) -> int:
    try:
        return max(0, min(int(value), 10_000_000))
    except (TypeError, ValueError):
        return 0


@manager_required
def rule_list(request):
    return render(request, "automation/rules.html", {"rules": list(selectors.rules(request.user))})


def _show_errors(form, exc: GuanxiError) -> None:
    if isinstance(exc, RuleError):
        form.add_error("condition", exc.message)
        return
    placed = False
    for name, problems in exc.details.items():
        field = name.split(".", 1)[0]
        if field in form.fields and isinstance(problems, list):
            prefix = "" if field == name else f"{name}: "
            form.add_error(field, [f"{prefix}{problem}" for problem in problems])
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@manager_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, rule_id: int | None = None):
    rule = selectors.get_rule(request.user, rule_id) if rule_id else None
    form = RuleForm(request.POST or None, initial=RuleForm.initial_for(rule))
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                rule = services.create_rule(actor=request.user, data=form.to_data())
            else:
                services.update_rule(
                    actor=request.user, rule_id=rule.pk, version=form.cleaned_data["version"], data=form.to_data()
                )
        except GuanxiError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("automation:rules")
    context = {"form": form, "rule": rule, "help": options(), "actions": actions.registered()}
    return render(request, "automation/rule_form.html", context)


@manager_required
@require_POST
def dry_run(request):
    """HTMX from the rule form: the customers the condition in the form matches now (of those you see)."""
    condition = request.POST.get("condition", "")[:2000]
    try:
        result = selectors.dry_run(request.user, condition)
    except GuanxiError as exc:
        return render(request, "automation/_dry_run.html", {"error": exc.message})
    return render(request, "automation/_dry_run.html", {"result": result})


@manager_required
def rule_runs(request, rule_id: int):
    rule = selectors.get_rule(request.user, rule_id)
    status = request.GET.get("status", "")
    status = status if status in RuleRun.Status.values else ""
    page = paginate(
        selectors.runs(request.user, rule_id=rule.pk, status=status),
        limit=50,
        offset=_offset(request.GET.get("offset")),
    )
    names = selectors.visible_names(request.user, [run.customer_id for run in page.items])
    rows = [(run, names.get(run.customer_id)) for run in page.items]
    context = {"rule": rule, "page": page, "rows": rows, "status": status, "statuses": RuleRun.Status.choices}
    return render(request, "automation/runs.html", context)


@manager_required
def template_list(request):
    return render(request, "automation/templates.html", {"templates": list(selectors.templates(request.user))})


@manager_required
@require_http_methods(["GET", "POST"])
def template_edit(request, template_id: int | None = None):
    template = selectors.get_template(request.user, template_id) if template_id else None
    initial = {"version": template.version} if template else {}
    form = TemplateForm(request.POST or None, instance=template, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_template(
                actor=request.user,
                data=form.to_data(),
                template_id=template.pk if template else None,
                version=form.cleaned_data.get("version"),
            )
        except GuanxiError as exc:
            _show_errors(form, exc)
        else:
            messages.success(request, _("Template saved."))
            return redirect("automation:templates")
    return render(request, "automation/template_form.html", {"form": form, "template": template})
