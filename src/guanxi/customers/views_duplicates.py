"""Pages for duplicates: the review queue, the side-by-side merge, the merge history with undo, and the
collision warning (撞单) on the create form. Thin: parse, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core import access
from guanxi.core.errors import GuanxiError, NotFound
from guanxi.core.pagination import paginate
from guanxi.customers import duplicates, merge, selectors
from guanxi.customers.forms import split_values
from guanxi.customers.models import Customer


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


FIELD_LABELS = {
    "display_name": gettext_lazy("Name"),
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "kind": gettext_lazy("Kind"),
    "emails": gettext_lazy("E-mails"),
    "phones": gettext_lazy("Phones"),
    "wechat_id": gettext_lazy("WeChat ID"),
    "company": gettext_lazy("Company"),
    "industry": gettext_lazy("Industry"),
    "region": gettext_lazy("Region"),
    "address": gettext_lazy("Address"),
    "source": gettext_lazy("Source"),
    "tags": gettext_lazy("Tags"),
    "custom_fields": gettext_lazy("Custom fields"),
    "profiling_opt_out": gettext_lazy("Opted out of profiling"),
}
MATCH_LABELS = {
    "name": gettext_lazy("name"),
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("e-mail"),
    "company": gettext_lazy("company"),
    "address": gettext_lazy("address"),
}


CHOICE_LABELS = {"kind": dict(Customer.Kind.choices), "source": dict(Customer.Source.choices)}


def _show(value, name: str = "") -> str:
    """A stored value as the reviewer reads it: choice labels, custom fields by their label, lists joined."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name in CHOICE_LABELS:
        return str(CHOICE_LABELS[name].get(value, value))
    if isinstance(value, list):
        return _(", ").join(map(str, value))
    if isinstance(value, dict):
        labels = {d.key: d.display_label for d in selectors.custom_field_definitions()}
        return "; ".join(f"{labels.get(k, k)}: {v}" for k, v in value.items())
    return str(value)


@login_required
def duplicate_queue(request):
    page = paginate(
        duplicates.visible_candidates(request.user), limit=25, offset=max(0, _int(request.GET.get("offset"), 0))
    )
    for candidate in page.items:
        candidate.matched_labels = [str(MATCH_LABELS.get(f, f)) for f in candidate.matched_fields]
    return render(request, "customers/duplicates.html", {"page": page})


def _rows(a: Customer, b: Customer) -> list[dict]:
    va, vb = merge.field_values(a), merge.field_values(b)
    conflicting = set(merge.conflicts(a, b))
    rows = []
    for name in ("display_name", "family_name", "given_name", "kind", "emails", "phones", "wechat_id", "company"):
        rows.append(_row(name, va, vb, conflicting))
    for name in ("industry", "region", "address", "source", "tags", "custom_fields", "profiling_opt_out"):
        rows.append(_row(name, va, vb, conflicting))
    return rows


def _row(name, va, vb, conflicting) -> dict:
    return {
        "name": name,
        "label": FIELD_LABELS[name],
        "a": _show(va[name], name),
        "b": _show(vb[name], name),
        "same": va[name] == vb[name],
        "choose": name in conflicting,
        "both": name in ("tags", "custom_fields", "profiling_opt_out"),
        "union": name in merge.UNION_FIELDS,
    }


@login_required
@require_http_methods(["GET", "POST"])
def duplicate_review(request, candidate_id: int):
    try:
        candidate = duplicates.get_candidate(request.user, candidate_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    a, b = candidate.customer_a, candidate.customer_b
    error = None
    if request.method == "POST":
        keep_a = request.POST.get("survivor", "a") != "b"
        survivor, loser = (a, b) if keep_a else (b, a)
        choices = {}
        for name in merge.CHOOSABLE:
            picked = request.POST.get(f"choice_{name}")
            if picked == "both":
                choices[name] = "either" if name == "profiling_opt_out" else "union"
            elif picked in ("a", "b"):
                choices[name] = "survivor" if (picked == "a") == keep_a else "loser"
        versions = {"a": _int(request.POST.get("version_a")), "b": _int(request.POST.get("version_b"))}
        try:
            record = merge.merge_customers(
                actor=request.user,
                survivor_id=survivor.pk,
                loser_id=loser.pk,
                field_choices=choices,
                survivor_version=versions["a" if keep_a else "b"],
                loser_version=versions["b" if keep_a else "a"],
            )
        except GuanxiError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Merged “%(loser)s” into “%(survivor)s”. You can undo it from the merge history.")
                % {"loser": loser.display_name, "survivor": survivor.display_name},
            )
            return redirect(reverse("customers:detail", args=[record.survivor_id]))
    context = {
        "candidate": candidate,
        "a": a,
        "b": b,
        "rows": _rows(a, b),
        "error": error,
        "matched": [str(MATCH_LABELS.get(f, f)) for f in candidate.matched_fields],
    }
    return render(request, "customers/duplicate_review.html", context)


@login_required
@require_POST
def duplicate_dismiss(request, candidate_id: int):
    try:
        duplicates.dismiss_candidate(actor=request.user, candidate_id=candidate_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, _("Marked as not a duplicate."))
    return redirect(reverse("customers:duplicates"))


@login_required
def merge_history(request):
    page = paginate(selectors.merge_history(request.user), limit=25, offset=max(0, _int(request.GET.get("offset"), 0)))
    return render(request, "customers/merges.html", {"page": page})


@login_required
@require_POST
def merge_undo(request, merge_id: int):
    try:
        merge.undo_merge(actor=request.user, merge_id=merge_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except GuanxiError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The merge was undone."))
    return redirect(reverse("customers:merges"))


@login_required
def collision_warning(request):
    """HTMX fragment for the create form: who already owns a customer with this phone, e-mail or name."""
    if not access.can_create_customers(request.user):
        raise Http404
    params = request.GET
    phones = split_values(params.get("phones", ""))[:5]
    emails = split_values(params.get("emails", ""))[:5]
    name = params.get("display_name", "") or ""
    if not name and (params.get("family_name") or params.get("given_name")):
        from guanxi.customers.normalize import compose_name

        name = compose_name(params.get("family_name", ""), params.get("given_name", ""))
    found = []
    probes = [{"phone": p[:50]} for p in phones] + [{"email": e[:254]} for e in emails]
    probes += [{"name": name[:200]}] if name.strip() else []
    if params.get("wechat_id"):
        probes.append({"wechat": params["wechat_id"][:100]})
    seen = set()
    for probe in probes:
        for match in selectors.collision_check(request.user, **probe):
            key = (match.field, match.owner, match.customer_id)
            if key not in seen:
                seen.add(key)
                found.append(match)
    return render(request, "customers/_collisions.html", {"collisions": found})
