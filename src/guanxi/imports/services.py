"""Every write of the imports app: upload, mapping, start, and running a job batch by batch.

A job runs in batches (``BATCH_SIZE`` rows); each batch is one transaction that writes its customers or orders,
its rejected rows and the job's counters together. A crash or kill loses at most the batch in flight and
leaves no half-written row; running the job again, or importing the same file again, changes nothing that is
already stored: customers are matched by external id, e-mail, phone or WeChat ID (then by exact name), orders
by their number.
"""

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.commerce import services as commerce
from guanxi.core import access, events
from guanxi.core.errors import GuanxiError
from guanxi.customers import identities, normalize
from guanxi.customers import services as customers
from guanxi.customers.models import Customer
from guanxi.imports import fields, matching, reading
from guanxi.imports.errors import ImportDenied, ImportFileInvalid, ImportNotFound, ImportNotReady, MappingInvalid
from guanxi.imports.models import ImportJob, ImportMapping, Kind, RejectedRow
from guanxi.imports.rows import ROW, OrderRow, Parsed, parse_customer, parse_order, same_order

BATCH_SIZE = 500
Progress = Callable[[ImportJob], None]


def storage_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(job: ImportJob) -> Path:
    return storage_dir() / job.stored_name


def can_import(user, kind: str) -> bool:
    """Analysts and support agents import nothing; orders need the customers to be editable anyway."""
    return access.can_create_customers(user)


def _check_may_import(actor, kind: str) -> None:
    if kind not in Kind.values:
        raise MappingInvalid(_("Unknown import kind."), kind=[_("Choose customers or orders.")])
    if not can_import(actor, kind):
        raise ImportDenied(_("Your role cannot import data."))


def check_columns(kind: str, headers: list[str], columns: dict[str, str]) -> dict[str, str]:
    """A clean ``{header: field}``; raises MappingInvalid when a field is unknown, used twice or a required one
    is missing."""
    known = fields.FIELDS[kind]
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for header, name in columns.items():
        if not name:
            continue
        if header not in headers:
            errors.setdefault(header, []).append(_("The file has no such column."))
        elif name not in known:
            errors.setdefault(header, []).append(_("Unknown field “%(name)s”.") % {"name": name})
        elif name in clean.values():
            errors.setdefault(header, []).append(_("“%(field)s” is mapped twice.") % {"field": known[name]})
        else:
            clean[header] = name
    used = set(clean.values())
    if kind == Kind.CUSTOMERS:
        if not used & {"display_name", "given_name", "family_name", "company"}:
            errors.setdefault("mapping", []).append(_("Map a column to the name (or given/family name, or company)."))
    else:
        for name in ("order_id", "customer_ref", "ordered_at"):
            if name not in used:
                errors.setdefault("mapping", []).append(
                    _("Map a column to “%(field)s”; the file is missing it.") % {"field": known[name]}
                )
        if "amount" not in used and "unit_price" not in used:
            errors.setdefault("mapping", []).append(_("Map a column to the amount or to the unit price."))
    if errors:
        raise MappingInvalid(_("The column mapping is not complete."), **errors)
    return clean


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    clean = {"region": settings.GUANXI_PHONE_REGION, "system": "import", "currency": ""}
    for key, value in (options or {}).items():
        if key in clean and isinstance(value, str) and value.strip():
            clean[key] = value.strip()[:30]
    try:
        clean["currency"] = fields.parse_currency(clean["currency"]) if clean["currency"] else ""
    except ValueError as exc:
        raise MappingInvalid(str(exc), currency=[str(exc)]) from exc
    clean["region"] = clean["region"].upper()[:2]
    return clean


@transaction.atomic
def create_job(
    *,
    actor,
    kind: str,
    source: Path | Any,
    file_name: str,
    columns: dict[str, str] | None = None,
    mapping_name: str = "",
    options: dict[str, Any] | None = None,
) -> ImportJob:
    """Store an uploaded file (a path, or a Django UploadedFile) and create its job, not started yet.

    Refuses files over the size limit, zip bombs, unreadable encodings and files without a header before
    anything else. The mapping is ``columns``, else the named saved mapping, else one suggested from the
    headers. Emits ``import.created``.
    """
    _check_may_import(actor, kind)
    size = source.stat().st_size if isinstance(source, Path) else source.size
    reading.check_size(size)
    stored_name = f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()[:10]}"
    target = storage_dir() / stored_name
    digest = hashlib.sha256()
    with target.open("wb") as out:
        chunks = _chunks_of_path(source) if isinstance(source, Path) else source.chunks()
        written = 0
        for chunk in chunks:
            written += len(chunk)
            if written > reading.max_bytes():
                out.close()
                target.unlink(missing_ok=True)
                reading.check_size(written)
            digest.update(chunk)
            out.write(chunk)
    try:
        info = reading.inspect(target)
    except ImportFileInvalid:
        target.unlink(missing_ok=True)
        raise
    if columns is None and mapping_name:
        mapping = ImportMapping.objects.filter(owner=actor, kind=kind, name=mapping_name).first()
        if mapping is None:
            target.unlink(missing_ok=True)
            raise MappingInvalid(
                _("No saved mapping named “%(name)s”.") % {"name": mapping_name}, mapping=[_("Unknown mapping.")]
            )
        columns = {h: f for h, f in mapping.columns.items() if h in info.headers}
    if columns is None:
        columns = fields.suggest_columns(kind, info.headers)
    job = ImportJob.objects.create(
        kind=kind,
        file_name=Path(file_name).name[:255],
        stored_name=stored_name,
        file_size=written,
        file_sha256=digest.hexdigest(),
        file_format=info.format,
        encoding=info.encoding,
        delimiter=info.delimiter,
        headers=info.headers,
        columns={h: f for h, f in columns.items() if h in info.headers and f},
        mapping_name=mapping_name,
        options=_options(options),
        created_by=actor,
    )
    events.record(
        "import.created",
        subject=job,
        actor=actor,
        payload={"kind": kind, "file_name": job.file_name, "size": written},
        audit_action="create",
        changes={"file_name": [None, job.file_name], "kind": [None, kind]},
    )
    return job


def _chunks_of_path(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            yield chunk


def _job_for_creator(actor, job_id: int) -> ImportJob:
    job = ImportJob.objects.select_for_update().filter(pk=job_id, created_by=actor).first()
    if job is None:
        raise ImportNotFound(_("No import with id %(id)s.") % {"id": job_id})
    return job


@transaction.atomic
def set_columns(*, actor, job_id: int, columns: dict[str, str], save_as: str = "") -> ImportJob:
    """Change a job's column mapping before it starts; ``save_as`` also stores it as a named mapping."""
    job = _job_for_creator(actor, job_id)
    if job.status != ImportJob.Status.DRAFT:
        raise ImportNotReady(_("This import has already started."))
    clean = {h: f for h, f in columns.items() if f}
    check_columns(job.kind, job.headers, clean)
    before = job.columns
    job.columns = clean
    if save_as:
        save_mapping(actor=actor, kind=job.kind, name=save_as, columns=clean)
        job.mapping_name = save_as.strip()[:100]
    job.save(update_fields=["columns", "mapping_name"])
    events.record(
        "import.mapped",
        subject=job,
        actor=actor,
        payload={"columns": clean},
        audit_action="update",
        changes=events.diff({"columns": before}, {"columns": clean}),
    )
    return job


@transaction.atomic
def save_mapping(*, actor, kind: str, name: str, columns: dict[str, str]) -> ImportMapping:
    """Create or replace the actor's named mapping for ``kind``."""
    _check_may_import(actor, kind)
    name = name.strip()[:100]
    if not name:
        raise MappingInvalid(_("Give the mapping a name."), name=[_("This value is required.")])
    known = fields.FIELDS[kind]
    bad = sorted({f for f in columns.values() if f not in known})
    if bad:
        raise MappingInvalid(_("Unknown field “%(name)s”.") % {"name": bad[0]})
    mapping, created = ImportMapping.objects.update_or_create(
        owner=actor, kind=kind, name=name, defaults={"columns": dict(columns)}
    )
    events.record(
        "import.mapping_saved",
        subject=mapping,
        actor=actor,
        payload={"name": name, "kind": kind},
        audit_action="create" if created else "update",
        changes={"columns": [None, dict(columns)]},
    )
    return mapping


@transaction.atomic
def delete_mapping(*, actor, mapping_id: int) -> None:
    mapping = ImportMapping.objects.filter(pk=mapping_id, owner=actor).first()
    if mapping is None:
        raise ImportNotFound(_("No mapping with id %(id)s.") % {"id": mapping_id})
    events.record(
        "import.mapping_deleted",
        subject=mapping,
        actor=actor,
        payload={"name": mapping.name},
        audit_action="delete",
        changes={"name": [mapping.name, None]},
    )
    mapping.delete()


@transaction.atomic
def start_job(*, actor, job_id: int, enqueue: bool = True) -> ImportJob:
    """Queue a job for the worker (``imports`` queue). Its mapping must be complete."""
    job = _job_for_creator(actor, job_id)
    if job.status != ImportJob.Status.DRAFT:
        raise ImportNotReady(_("This import has already started."))
    _check_may_import(actor, job.kind)
    check_columns(job.kind, job.headers, job.columns)
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["status"])
    events.record(
        "import.queued",
        subject=job,
        actor=actor,
        payload={"kind": job.kind},
        audit_action="update",
        changes={"status": ["draft", "queued"]},
    )
    if enqueue:
        from guanxi.imports.tasks import run_import

        transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


# --- running a job ---------------------------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str, list[str]]] = field(default_factory=list)  # line, column, reason, cells


def _reason(exc: GuanxiError) -> str:
    parts = []
    for key, messages in exc.details.items():
        if isinstance(messages, list):
            parts.append(f"{key}: {' '.join(map(str, messages))}")
    return exc.message + (f" ({'; '.join(parts)})" if parts else "")


def _reject_all(outcome: BatchOutcome, parsed: Parsed) -> None:
    for column, reason in parsed.errors:
        outcome.rejected.append((parsed.line, column, reason, parsed.cells))


class _CustomerBatch:
    """Upsert one batch of customer rows through the customers services.

    New customers are created together with ``customers.create_customers`` (a few bulk statements per batch);
    updates go row by row through ``update_customer``, and only for rows that change something. The result is
    the one of handling the rows one after the other: the creations waiting in the batch are written first
    whenever a later row could depend on them (it shares an e-mail, phone, WeChat ID or external id with one,
    or, having none of these, it carries a name one of them may get).
    """

    FIELDS = (
        "display_name",
        "given_name",
        "family_name",
        "wechat_id",
        "company",
        "industry",
        "region",
        "address",
        "kind",
    )

    def __init__(self, actor):
        self.actor = actor

    def run(self, rows: list[Parsed]) -> BatchOutcome:
        outcome = BatchOutcome()
        good = [p for p in rows if p.ok]
        for parsed in rows:
            if not parsed.ok:
                _reject_all(outcome, parsed)
        matches = matching.match_customers({k for p in good for k in p.keys})
        matched_ids = set(matches.values())
        editable = set(access.editable_customers(self.actor).filter(pk__in=matched_ids).values_list("pk", flat=True))
        self._stored = self._load(matched_ids & editable)
        local: dict[tuple[str, str], int] = {}
        self._pending: list[Parsed] = []
        self._pending_keys: set[tuple[str, str]] = set()
        self._pending_names: set[str] = set()
        for parsed in good:
            if self._depends_on_pending(parsed):
                self._flush(outcome, local)
            ids = {matches.get(k) or local.get(k) for k in parsed.keys} - {None}
            if not parsed.keys:
                ids = self._by_name(parsed)
            if len(ids) > 1:
                outcome.rejected.append(
                    (parsed.line, ROW, _("The row matches several existing customers."), parsed.cells)
                )
                continue
            if not ids:
                self._defer(parsed)
                continue
            try:
                customer_id = ids.pop()
                if customer_id not in editable and customer_id not in local.values():
                    editable |= set(
                        access.editable_customers(self.actor).filter(pk=customer_id).values_list("pk", flat=True)
                    )
                if customer_id not in editable and customer_id not in local.values():
                    outcome.rejected.append(
                        (parsed.line, ROW, _("The customer belongs to another owner."), parsed.cells)
                    )
                    continue
                if self._update(customer_id, parsed):
                    outcome.updated += 1
                else:
                    outcome.unchanged += 1
                for key in parsed.keys:  # an e-mail or phone the update added finds this customer from now on
                    local.setdefault(key, customer_id)
            except GuanxiError as exc:
                outcome.rejected.append((parsed.line, ROW, _reason(exc), parsed.cells))
        self._flush(outcome, local)
        return outcome

    # --- creations, deferred to one create_customers call ----------------------------------------------------

    @staticmethod
    def _folded(keys) -> set[tuple[str, str]]:
        return {(kind, value.casefold()) for kind, value in keys}

    @staticmethod
    def _names(parsed: Parsed) -> set[str]:
        """Every display name the row's customer may get (``_by_name`` compares with these)."""
        values = parsed.values
        names = {
            values.get("display_name") or "",
            values.get("company") or "",
            normalize.compose_name(values.get("family_name") or "", values.get("given_name") or ""),
        }
        return names - {""}

    def _depends_on_pending(self, parsed: Parsed) -> bool:
        if not self._pending:
            return False
        if parsed.keys:
            return bool(self._folded(parsed.keys) & self._pending_keys)
        name = parsed.values.get("display_name") or parsed.values.get("company")
        return bool(name) and name in self._pending_names

    def _defer(self, parsed: Parsed) -> None:
        self._pending.append(parsed)
        self._pending_keys |= self._folded(parsed.keys)
        self._pending_names |= self._names(parsed)

    def _flush(self, outcome: BatchOutcome, local: dict[tuple[str, str], int]) -> None:
        if not self._pending:
            return
        rows = [dict(p.values, source=Customer.Source.IMPORT) for p in self._pending]
        try:
            results: list[Any] = customers.create_customers(actor=self.actor, rows=rows)
        except GuanxiError as exc:  # e.g. the importer's role changed during the job: every row says why
            results = [exc] * len(rows)
        for parsed, result in zip(self._pending, results, strict=True):
            if isinstance(result, GuanxiError):
                outcome.rejected.append((parsed.line, ROW, _reason(result), parsed.cells))
                continue
            for key in parsed.keys:
                local[key] = result.pk
            outcome.created += 1
        self._pending, self._pending_keys, self._pending_names = [], set(), set()

    # --- updates, row by row ---------------------------------------------------------------------------------

    @staticmethod
    def _load(ids: set[int]) -> dict[int, tuple[Customer, list[str]]]:
        """The matched customers the actor may edit, with their tags and external ids, in three queries."""
        if not ids:
            return {}
        found = Customer.objects.prefetch_related("tags").in_bulk(list(ids))
        external = identities.external_ids_by_customer(found)
        return {pk: (customer, external[pk]) for pk, customer in found.items()}

    def _by_name(self, parsed: Parsed) -> set[int]:
        """Rows with no id, e-mail, phone or WeChat ID match a visible customer with exactly that name."""
        name = parsed.values.get("display_name") or parsed.values.get("company")
        if not name:
            return set()
        found = access.visible_customers(self.actor).filter(display_name=name)
        if parsed.values.get("company"):
            found = found.filter(company=parsed.values["company"])
        return set(found.values_list("pk", flat=True)[:2])

    def _update(self, customer_id: int, parsed: Parsed) -> bool:
        stored = self._stored.get(customer_id)
        if stored is not None and not self._changes(*stored, parsed):
            return False  # the common case of a re-run: decided on the batch's prefetched state, no query
        self._stored.pop(customer_id, None)  # changed now: a later row of the batch reads it again
        customer = Customer.objects.prefetch_related("tags").get(pk=customer_id)
        data = self._changes(customer, None, parsed)
        if not data:
            return False
        customers.update_customer(actor=self.actor, customer_id=customer_id, version=customer.version, data=data)
        return True

    def _changes(self, customer: Customer, current_ext: list[str] | None, parsed: Parsed) -> dict[str, Any]:
        """The update the row asks for: new field values, and contacts, tags and external ids to add."""
        data: dict[str, Any] = {}
        for name in self.FIELDS:
            value = parsed.values.get(name)
            if value and value != getattr(customer, name):
                data[name] = value
        for name in ("emails", "phones"):
            current = list(getattr(customer, name))
            merged = current + [v for v in parsed.values.get(name, []) if v not in current]
            if merged != current:
                data[name] = merged
        if parsed.values.get("tags"):
            current_tags = [t.name for t in customer.tags.all()]
            merged_tags = current_tags + [t for t in parsed.values["tags"] if t not in current_tags]
            if merged_tags != current_tags:
                data["tags"] = merged_tags
        if parsed.values.get("external_ids"):
            if current_ext is None:
                current_ext = matching.external_ids_of(customer)
            wanted = [e for e in parsed.values["external_ids"] if e.lower() not in {c.lower() for c in current_ext}]
            if wanted:
                data["external_ids"] = current_ext + wanted
        return data


class _OrderBatch:
    """Place one batch of orders (rows grouped by order number) with ``commerce.place_orders``."""

    def __init__(self, actor, options: dict[str, Any], columns: dict[str, str]):
        self.actor = actor
        self.columns_by_field = {name: header for header, name in columns.items()}
        self.system = (options.get("system") or "import").lower()
        self.region = options.get("region") or settings.GUANXI_PHONE_REGION
        self.seen: dict[str, int] = {}  # order number -> first line, across the whole run

    def _candidates(self, ref: str) -> list[tuple[str, str]]:
        from guanxi.customers import normalize

        keys = [("external", f"{self.system}:{ref}")]
        if "@" in ref:
            keys.append(("email", ref.lower()))
        else:
            with contextlib.suppress(ValueError):
                keys.append(("phone", normalize.normalize_phone(ref, self.region)))
        return keys

    def run(self, groups: list[list[OrderRow]]) -> BatchOutcome:
        outcome = BatchOutcome()
        ready: list[list[OrderRow]] = []
        for group in groups:
            first = group[0]
            number = first.values.get("order_id")
            problems = [p for p in group if not p.ok]
            if number and number in self.seen and not problems:
                for row in group:
                    outcome.rejected.append(
                        (
                            row.line,
                            self._column("order_id", row),
                            _("Duplicate order number %(number)s (first on line %(line)s).")
                            % {"number": number, "line": self.seen[number]},
                            row.cells,
                        )
                    )
                continue
            if number:
                self.seen.setdefault(number, first.line)
            for row in group[1:]:
                if row.ok and not same_order(first, row):
                    row.reject(
                        ROW,
                        _("The line's order fields differ from the first line of order %(number)s.")
                        % {"number": number},
                    )
            if any(not p.ok for p in group):
                for row in group:
                    if row.ok:
                        row.reject(ROW, _("Another line of order %(number)s was rejected.") % {"number": number})
                    _reject_all(outcome, row)
                continue
            ready.append(group)
        refs = {g[0].values["customer_ref"] for g in ready}
        keys = {ref: self._candidates(ref) for ref in refs}
        matches = matching.match_customers({k for ks in keys.values() for k in ks})
        customer_of: dict[str, int | None] = {}
        for ref, candidates in keys.items():
            found = [matches[k] for k in candidates if k in matches]
            customer_of[ref] = found[0] if found else None
        editable = set(
            access.editable_customers(self.actor)
            .filter(pk__in={c for c in customer_of.values() if c})
            .values_list("pk", flat=True)
        )
        orders, placed_groups = [], []
        for group in ready:
            first = group[0]
            ref = first.values["customer_ref"]
            customer_id = customer_of.get(ref)
            reason = ""
            if customer_id is None:
                reason = _("Unknown customer “%(ref)s”.") % {"ref": ref}
            elif customer_id not in editable:
                reason = _("The customer belongs to another owner.")
            if reason:
                for row in group:
                    outcome.rejected.append((row.line, self._column("customer_ref", row), reason, row.cells))
                continue
            lines = [
                commerce.LineData(
                    quantity=row.line_item["quantity"],
                    unit_price=row.line_item["unit_price"],
                    sku=row.line_item["sku"],
                    description=row.line_item["description"],
                )
                for row in group
                if row.line_item
            ]
            amount = next((r.values["amount"] for r in group if r.values.get("amount") is not None), None)
            if amount is None:
                amount = sum((ln.quantity * ln.unit_price for ln in lines), start=commerce.Decimal(0))
                amount = amount.quantize(commerce.Decimal("0.01"))
            currency = next((r.values["currency"] for r in group if r.values.get("currency")), "")
            orders.append(
                commerce.OrderData(
                    customer_id=customer_id,
                    external_id=first.values["order_id"],
                    ordered_at=first.values["ordered_at"],
                    amount=amount,
                    currency=currency,
                    lines=lines,
                )
            )
            placed_groups.append(group)
        if orders:
            results = commerce.place_orders(actor=self.actor, orders=orders)
            for group, result in zip(placed_groups, results, strict=True):
                if result.error is not None:
                    column = "order_id" if result.error.code == "duplicate_order" else ""
                    reason = _reason(result.error)
                    if column:
                        reason = _("Duplicate order number: %(reason)s") % {"reason": reason}
                    for row in group:
                        outcome.rejected.append((row.line, self._column(column, row), reason, row.cells))
                elif result.created:
                    outcome.created += 1
                else:
                    outcome.unchanged += 1
        return outcome

    def _column(self, name: str, row: Parsed) -> str:
        return self.columns_by_field.get(name, "") if name else ""


def _groups(job: ImportJob, rows: Iterator[reading.Row]) -> Iterator[list[Any]]:
    """Parsed rows: customers one by one (as 1-lists), orders grouped by consecutive equal order numbers."""
    options = job.options
    if job.kind == Kind.CUSTOMERS:
        for row in rows:
            yield [parse_customer(row, job.headers, job.columns, options)]
        return
    group: list[OrderRow] = []
    for row in rows:
        parsed = parse_order(row, job.headers, job.columns, options)
        number = parsed.values.get("order_id")
        if group and number and number == group[0].values.get("order_id"):
            group.append(parsed)
            continue
        if group:
            yield group
        group = [parsed]
    if group:
        yield group


def _batches(job: ImportJob, skip: int, batch_size: int) -> Iterator[tuple[list[list[Any]], int]]:
    """Batches of groups with the number of rows in them, after skipping the first ``skip`` data rows."""
    batch: list[list[Any]] = []
    size = 0
    seen = 0
    for group in _groups(job, reading.iter_rows(file_path(job), _info(job))):
        seen += len(group)
        if seen <= skip:
            continue
        batch.append(group)
        size += len(group)
        if size >= batch_size:
            yield batch, size
            batch, size = [], 0
    if batch:
        yield batch, size


def _info(job: ImportJob) -> reading.FileInfo:
    return reading.FileInfo(format=job.file_format, encoding=job.encoding, delimiter=job.delimiter, headers=job.headers)


def _runner(job: ImportJob, actor):
    if job.kind == Kind.CUSTOMERS:
        runner = _CustomerBatch(actor)
        return lambda groups: runner.run([g[0] for g in groups])
    return _OrderBatch(actor, job.options, job.columns).run


def _store_rejections(job: ImportJob, outcome: BatchOutcome) -> None:
    RejectedRow.objects.bulk_create(
        [
            RejectedRow(job=job, line=line, column=column[:255], reason=reason, values=list(cells))
            for line, column, reason, cells in outcome.rejected
        ],
        batch_size=500,
    )


def _rejected_lines(outcome: BatchOutcome) -> int:
    return len({line for line, *_rest in outcome.rejected})


def run_job(job_id: int, *, progress: Progress | None = None, batch_size: int = BATCH_SIZE) -> ImportJob:
    """Run (or resume) a queued job: batches of rows, each committed with its counters in one transaction.

    Acts as the job's creator with their current permissions. A job that was interrupted resumes after its
    last committed batch. Emits ``import.finished`` (or ``import.failed``).
    """
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    actor = job.created_by
    try:
        if not can_import(actor, job.kind):
            raise ImportDenied(_("Your role cannot import data."))
        if not job.total_rows:
            total = reading.count_rows(file_path(job), _info(job))
            ImportJob.objects.filter(pk=job.pk).update(total_rows=total)
            job.total_rows = total
        if progress:
            progress(job)
        run_batch = _runner(job, actor)
        for groups, size in _batches(job, job.processed_rows, batch_size):
            with transaction.atomic():
                outcome = run_batch(groups)
                _store_rejections(job, outcome)
                ImportJob.objects.filter(pk=job.pk).update(
                    processed_rows=F("processed_rows") + size,
                    created_count=F("created_count") + outcome.created,
                    updated_count=F("updated_count") + outcome.updated,
                    unchanged_count=F("unchanged_count") + outcome.unchanged,
                    rejected_count=F("rejected_count") + _rejected_lines(outcome),
                )
            if progress:
                job.refresh_from_db()
                progress(job)
    except Exception as exc:  # any failure ends the job as failed, with its reason; committed batches stay
        message = exc.message if isinstance(exc, GuanxiError) else f"{type(exc).__name__}: {exc}"
        _finish(job.pk, ImportJob.Status.FAILED, message)
        if not isinstance(exc, GuanxiError):
            raise
        return ImportJob.objects.get(pk=job.pk)
    return _finish(job.pk, ImportJob.Status.DONE, "")


@transaction.atomic
def _claim(job_id: int) -> ImportJob | None:
    job = ImportJob.objects.select_for_update().select_related("created_by").filter(pk=job_id).first()
    if job is None:
        raise ImportNotFound(_("No import with id %(id)s.") % {"id": job_id})
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.DRAFT):
        return None
    if job.status == ImportJob.Status.QUEUED:
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
        events.record("import.started", subject=job, actor=job.created_by, payload={"kind": job.kind})
    return job


@transaction.atomic
def _finish(job_id: int, status: str, error: str) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    job.status = status
    job.error = error[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    counts = {
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "rejected": job.rejected_count,
    }
    events.record(
        "import.finished" if status == ImportJob.Status.DONE else "import.failed",
        subject=job,
        actor=job.created_by,
        payload={"kind": job.kind, **counts, "error": job.error},
        audit_action="update",
        changes={"status": ["running", status], **{k: [None, v] for k, v in counts.items()}},
    )
    return job


def import_file(
    *,
    actor,
    kind: str,
    path: Path,
    mapping_name: str = "",
    options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportJob:
    """Create a job for a local file and run it here (the CLI): the same service the worker runs."""
    job = create_job(
        actor=actor, kind=kind, source=path, file_name=path.name, mapping_name=mapping_name, options=options
    )
    check_columns(job.kind, job.headers, job.columns)
    job = start_job(actor=actor, job_id=job.pk, enqueue=False)
    return run_job(job.pk, progress=progress, batch_size=batch_size)


class _DryRun(Exception):
    pass


def dry_run(
    *, actor, kind: str, path: Path, mapping_name: str = "", options: dict[str, Any] | None = None
) -> ImportJob:
    """What ``import_file`` would do, without keeping anything: the whole run happens in a transaction that is
    rolled back; the returned job (unsaved) carries the counts and ``rejected`` rows."""
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            job = import_file(actor=actor, kind=kind, path=path, mapping_name=mapping_name, options=options)
            result["job"] = job
            result["rejected"] = list(job.rejected_rows.all())
            raise _DryRun
    except _DryRun:
        pass
    job = result["job"]
    job.dry_run_rejected = result["rejected"]
    file_path(job).unlink(missing_ok=True)
    return job
