"""Import pages (upload -> mapping -> preview -> start -> live progress -> result) and customer exports.

Thin: parse, call one service or selector, render."""

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core import tabular
from guanxi.core.errors import GuanxiError, NotFound
from guanxi.customers.models import Customer
from guanxi.customers.selectors import CustomerFilters
from guanxi.imports import fields, selectors, services
from guanxi.imports.models import Kind


def _job(request, job_id: int):
    try:
        return selectors.get_job(request.user, job_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def job_list(request):
    jobs = selectors.visible_jobs(request.user)[:100]
    return render(
        request,
        "imports/jobs.html",
        {"jobs": jobs, "can_import": services.can_import(request.user, Kind.CUSTOMERS), "nav_section": "imports"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    error = None
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        upload_file = request.FILES.get("file")
        if upload_file is None:
            error = _("Choose a file.")
        else:
            try:
                job = services.create_job(
                    actor=request.user,
                    kind=kind,
                    source=upload_file,
                    file_name=upload_file.name,
                    mapping_name=request.POST.get("mapping", ""),
                    options={"region": request.POST.get("region", ""), "currency": request.POST.get("currency", "")},
                )
            except GuanxiError as exc:
                error = exc.message
            else:
                return redirect("imports:mapping", job.pk)
    return render(
        request,
        "imports/upload.html",
        {
            "error": error,
            "kinds": Kind.choices,
            "mappings": selectors.mappings(request.user),
            "can_import": services.can_import(request.user, Kind.CUSTOMERS),
            "nav_section": "imports",
        },
        status=422 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request, job_id: int):
    job = _job(request, job_id)
    error, details = None, {}
    if request.method == "POST":
        columns = {h: request.POST.get(f"col-{i}", "") for i, h in enumerate(job.headers)}
        try:
            services.set_columns(
                actor=request.user, job_id=job.pk, columns=columns, save_as=request.POST.get("save_as", "")
            )
        except GuanxiError as exc:
            error, details = exc.message, exc.details
            job.columns = {h: f for h, f in columns.items() if f}
        else:
            return redirect("imports:preview", job.pk)
    known = fields.FIELDS[job.kind]
    columns = [(i, h, job.columns.get(h, "")) for i, h in enumerate(job.headers)]
    return render(
        request,
        "imports/mapping.html",
        {
            "job": job,
            "columns": columns,
            "fields": list(known.items()),
            "error": error,
            "details": details,
            "nav_section": "imports",
        },
        status=422 if error else 200,
    )


@login_required
def preview(request, job_id: int):
    job = _job(request, job_id)
    rows = selectors.preview(job)
    problems = None
    try:
        services.check_columns(job.kind, job.headers, job.columns)
    except GuanxiError as exc:
        problems = exc.message
    return render(
        request, "imports/preview.html", {"job": job, "rows": rows, "problems": problems, "nav_section": "imports"}
    )


@login_required
@require_POST
def start(request, job_id: int):
    job = _job(request, job_id)
    try:
        services.start_job(actor=request.user, job_id=job.pk)
    except GuanxiError as exc:
        messages.error(request, exc.message)
        return redirect("imports:preview", job.pk)
    return redirect("imports:detail", job.pk)


@login_required
def job_detail(request, job_id: int):
    job = _job(request, job_id)
    context = {"job": job, "rejected": job.rejected_rows.order_by("line", "id")[:50], "nav_section": "imports"}
    if request.htmx:
        return render(request, "imports/_progress.html", context)
    return render(request, "imports/job.html", context)


@login_required
def rejected_csv(request, job_id: int):
    job = _job(request, job_id)
    header, rows = selectors.rejected_table(job)
    response = StreamingHttpResponse(tabular.iter_csv(header, rows), content_type=tabular.CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.csv"'
    return response


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def customer_filters(params) -> CustomerFilters:
    """The customer list page's filters, read from the same query parameters."""

    def day(value, end=False):
        parsed = parse_date(value or "")
        if parsed is None:
            return None
        return timezone.make_aware(datetime.combine(parsed, time.max if end else time.min))

    return CustomerFilters(
        q=params.get("q", "")[:100],
        owner_id=_int(params.get("owner")),
        team_id=_int(params.get("team")),
        tag=params.get("tag", "")[:50],
        kind=params.get("kind", "") if params.get("kind") in Customer.Kind.values else "",
        created_after=day(params.get("created_after")),
        created_before=day(params.get("created_before"), end=True),
        sort=params.get("sort", "-created"),
    )


@login_required
def export_customers(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        header, rows = selectors.export_customers(request.user, customer_filters(request.GET))
    except GuanxiError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        response = StreamingHttpResponse(tabular.iter_csv(header, rows), content_type=tabular.CSV_CONTENT_TYPE)
    else:
        response = StreamingHttpResponse(
            tabular.iter_xlsx(header, rows, sheet_title=_("Customers")), content_type=tabular.XLSX_CONTENT_TYPE
        )
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.{fmt}"'
    return response
