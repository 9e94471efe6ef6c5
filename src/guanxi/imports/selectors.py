"""Every read of the imports app. A job is seen by its creator, the managers of the creator's team and admins."""

from collections.abc import Iterator
from itertools import islice
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.customers.selectors import CustomerFilters, list_customers
from guanxi.imports import reading, services
from guanxi.imports.errors import ImportNotFound
from guanxi.imports.models import ImportJob, ImportMapping, Kind
from guanxi.imports.rows import ROW, parse_customer, parse_order


def visible_jobs(user) -> QuerySet:
    jobs = ImportJob.objects.select_related("created_by")
    role = access.role_of(user)
    if role == access.ADMIN:
        return jobs
    if role is None:
        return jobs.none()
    q = Q(created_by=user)
    if role == access.MANAGER:
        q |= Q(created_by__team_id__in=access.managed_team_ids(user) or [])
    return jobs.filter(q)


def get_job(user, job_id: int) -> ImportJob:
    job = visible_jobs(user).filter(pk=job_id).first()
    if job is None:
        raise ImportNotFound(_("No import with id %(id)s.") % {"id": job_id})
    return job


def mappings(user, kind: str | None = None) -> QuerySet:
    found = ImportMapping.objects.filter(owner=user)
    return found.filter(kind=kind) if kind else found


def rejected_rows(user, job_id: int) -> QuerySet:
    return get_job(user, job_id).rejected_rows.order_by("line", "id")


def rejected_table(job: ImportJob) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of the rejected-rows download: line, column, reason, then the row's own cells."""
    header = [_("line"), _("column"), _("reason"), *job.headers]
    rows = ([r.line, r.column, r.reason, *r.values] for r in job.rejected_rows.order_by("line", "id").iterator())
    return header, rows


def preview(job: ImportJob, limit: int = 20) -> list[dict[str, Any]]:
    """The first rows as the import will read them, each cell with its validation result (no matching yet)."""
    parse = parse_customer if job.kind == Kind.CUSTOMERS else parse_order
    rows = reading.iter_rows(services.file_path(job), services._info(job))
    out = []
    for row in islice(rows, limit):
        parsed = parse(row, job.headers, job.columns, job.options)
        problems: dict[str, list[str]] = {}
        for column, reason in parsed.errors:
            problems.setdefault(column, []).append(reason)
        cells = []
        for index, header in enumerate(job.headers):
            value = row.cells[index] if index < len(row.cells) else ""
            cells.append(
                {
                    "header": header,
                    "value": value,
                    "field": job.columns.get(header, ""),
                    "errors": problems.get(header, []),
                }
            )
        out.append({"line": row.line, "cells": cells, "errors": problems.get(ROW, []), "ok": parsed.ok})
    return out


PERSONAL_COLUMNS = [
    ("id", "ID"),
    ("display_name", "Name"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("emails", "E-mails"),
    ("phones", "Phones"),
    ("wechat_id", "WeChat ID"),
    ("company", "Company"),
    ("industry", "Industry"),
    ("region", "Region"),
    ("address", "Address"),
    ("kind", "Kind"),
    ("source", "Source"),
    ("owner", "Owner"),
    ("team", "Team"),
    ("tags", "Tags"),
    ("created_at", "Created at"),
]
NON_PERSONAL = {"id", "industry", "region", "kind", "source", "owner", "team", "tags", "created_at"}


def export_customers(user, filters: CustomerFilters) -> tuple[list[str], Iterator[list[Any]]]:
    """The customer list ``user`` sees with ``filters`` (the list page's), as a header and a stream of rows.

    Analysts get only the non-personal columns."""
    personal = access.can_see_personal_data(user)
    columns = [(k, label) for k, label in PERSONAL_COLUMNS if personal or k in NON_PERSONAL]
    customers = list_customers(user, filters)
    header = [_(label) for _k, label in columns]

    def value(customer, key):
        if key in ("emails", "phones"):
            return "; ".join(getattr(customer, key))
        if key == "tags":
            return "; ".join(t.name for t in customer.tags.all())
        if key in ("owner", "team"):
            related = getattr(customer, key)
            return str(related) if related else ""
        return getattr(customer, key if key != "id" else "pk")

    rows = ([value(c, k) for k, _label in columns] for c in customers.iterator(chunk_size=2000))
    return header, rows
