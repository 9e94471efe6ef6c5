"""``guanxi import customers FILE`` / ``guanxi import orders FILE``: the import job run in-process with a Rich bar.

Django is set up inside the commands, so that importing this module (from ``guanxi.commands``) stays cheap.
"""

from pathlib import Path
from typing import Annotated

import typer

from guanxi.cli import setup_django

import_app = typer.Typer(help="Import customers or orders from CSV or Excel (.xlsx).", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="CSV or .xlsx file", exists=True, dir_okay=False, readable=True)]
MappingOpt = Annotated[str, typer.Option("--mapping", help="Name of a saved column mapping (else suggested)")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Import as this user (default: the only admin)")]
DryOpt = Annotated[bool, typer.Option("--dry-run", help="Check every row and report; write nothing")]
RegionOpt = Annotated[str, typer.Option(help="Region for phone numbers without a country code (e.g. CN)")]
SystemOpt = Annotated[str, typer.Option(help="Name of the source system for the customer id column")]
BatchOpt = Annotated[int, typer.Option(help="Rows per transaction")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _actor(username: str | None):
    from guanxi.accounts.models import User

    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            _fail(f"no active user named {username}")
        return user
    admins = list(User.objects.filter(is_active=True, role="admin")[:2]) or list(
        User.objects.filter(is_active=True, is_superuser=True)[:2]
    )
    if len(admins) != 1:
        _fail("say who imports with --as USER")
    return admins[0]


def _run_import(
    kind: str, path: Path, mapping: str, as_user: str | None, dry_run: bool, region: str, system: str, batch_size: int
) -> None:
    setup_django()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from guanxi.core.context import system_context
    from guanxi.core.errors import GuanxiError
    from guanxi.imports import services

    console = Console(stderr=True)
    options = {"region": region, "system": system}
    try:
        with system_context("cli"):
            actor = _actor(as_user)
            if dry_run:
                job = services.dry_run(actor=actor, kind=kind, path=path, mapping_name=mapping, options=options)
                rejected = job.dry_run_rejected
            else:
                with Progress(
                    TextColumn("[bold]{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=console,
                    transient=True,
                ) as bar:
                    task = bar.add_task(f"import {kind}", total=None)

                    def progress(job):
                        bar.update(task, total=job.total_rows or None, completed=job.processed_rows)

                    job = services.import_file(
                        actor=actor,
                        kind=kind,
                        path=path,
                        mapping_name=mapping,
                        options=options,
                        progress=progress,
                        batch_size=batch_size,
                    )
                rejected = list(job.rejected_rows.all()[:20])
    except GuanxiError as exc:
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.details.items() if isinstance(v, list))
        _fail(exc.message + (f" ({detail})" if detail else ""))
    for row in rejected[:20]:
        column = f" [{row.column}]" if row.column else ""
        typer.echo(f"line {row.line}{column}: {row.reason}", err=True)
    if job.rejected_count > 20:
        typer.echo(f"... and more: download them from /imports/{job.pk}/rejected.csv", err=True)
    prefix = "dry run: would have " if dry_run else f"import {job.pk}: "
    typer.echo(
        f"{prefix}created {job.created_count}, updated {job.updated_count}, unchanged {job.unchanged_count}, "
        f"rejected {job.rejected_count} of {job.total_rows} rows"
    )
    if job.status == "failed":
        _fail(job.error)


@import_app.command("customers")
def import_customers(
    file: FileArg,
    mapping: MappingOpt = "",
    as_user: AsOpt = None,
    dry_run: DryOpt = False,
    region: RegionOpt = "",
    system: SystemOpt = "import",
    batch_size: BatchOpt = 500,
) -> None:
    """Import customers: matched by their id, e-mail, phone or WeChat ID, so running a file twice changes nothing."""
    _run_import("customers", file, mapping, as_user, dry_run, region, system, batch_size)


@import_app.command("orders")
def import_orders(
    file: FileArg,
    mapping: MappingOpt = "",
    as_user: AsOpt = None,
    dry_run: DryOpt = False,
    region: RegionOpt = "",
    system: SystemOpt = "import",
    batch_size: BatchOpt = 500,
) -> None:
    """Import orders (one row per order or per order line), idempotent on the order number."""
    _run_import("orders", file, mapping, as_user, dry_run, region, system, batch_size)
