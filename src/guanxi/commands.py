"""The ``guanxi`` command line (Typer). Domain errors print one line to stderr and exit 1 (STYLE.md section 5)."""

import os
import secrets
import sys
from typing import Annotated

import typer

from guanxi.cli import setup_django

app = typer.Typer(
    help="Guanxi (关系): customer lifecycle management.", no_args_is_help=True, pretty_exceptions_enable=False
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(demo_app, name="demo")
ownership_app = typer.Typer(help="Ownership: the public pool and its rules.", no_args_is_help=True)
app.add_typer(ownership_app, name="ownership")

# `guanxi analyze FILE` needs no Django and no database: the command lives in guanxi/analyze.py.
from guanxi.analyze import analyze as _analyze  # noqa: E402

app.command("analyze")(_analyze)

from guanxi.imports.cli import import_app as _import_app  # noqa: E402

app.add_typer(_import_app, name="import")


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _run(fn):
    """Run ``fn`` with Django set up, as the CLI (audit entries say ``cli``), turning domain errors into exit 1."""
    setup_django()
    from guanxi.core.context import system_context
    from guanxi.core.errors import GuanxiError

    try:
        with system_context("cli"):
            return fn()
    except GuanxiError as exc:
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.details.items() if isinstance(v, list))
        fail(exc.message + (f" ({detail})" if detail else ""))


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (DATABASE_URL, SQLite under ./var by default)."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 2,
    jobs: Annotated[bool, typer.Option(help="Also run a background-job worker (imports, scheduled work)")] = True,
) -> None:
    """Serve the web app and the API with gunicorn, with the background-job worker and the daily scheduler."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "guanxi.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--timeout",
        "120",
    ]
    if not jobs:
        # Replace this process, so that stopping `guanxi serve` stops gunicorn too (no orphaned server).
        os.execv(sys.executable, command)  # noqa: S606 - fixed argv, no shell
    guanxi = [sys.executable, "-m", "guanxi.cli"]
    _supervise([command, [*guanxi, "worker"], [*guanxi, "scheduler"]])


def _supervise(commands: list[list[str]]) -> None:
    """Run the commands side by side until one ends or we are told to stop; then stop the others."""
    import signal
    import subprocess
    import time

    children = [subprocess.Popen(c) for c in commands]  # noqa: S603 - fixed argv, no shell
    asked_to_stop = []

    def stop(signum, _frame):
        asked_to_stop.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    ended_by_itself = not asked_to_stop
    stop(signal.SIGTERM, None)
    codes = [child.wait(timeout=30) for child in children]
    # Stopped on request (Ctrl-C, SIGTERM): a clean exit. One child ending on its own is a failure of the whole.
    raise typer.Exit(max((abs(code) for code in codes), default=0) or 1 if ended_by_itself else 0)


@app.command()
def scheduler(
    once: Annotated[bool, typer.Option(help="Enqueue what is due now, then exit")] = False,
    interval: Annotated[int, typer.Option(help="Seconds between checks")] = 30,
) -> None:
    """Enqueue the daily jobs (scoring 02:00, idle-customer release 03:00, duplicate detection 04:00 local time)."""
    import time

    setup_django()
    from guanxi.core.schedule import daily_jobs, enqueue_due, interval_jobs

    typer.echo("daily jobs: " + ", ".join(f"{j.name} at {j.at:%H:%M}" for j in daily_jobs()), err=True)
    typer.echo("interval jobs: " + ", ".join(f"{j.name} every {j.minutes} min" for j in interval_jobs()), err=True)
    while True:
        for name in enqueue_due():
            typer.echo(f"enqueued {name}", err=True)
        if once:
            return
        time.sleep(max(1, interval))


@app.command()
def worker(
    queue: Annotated[str, typer.Option(help="Queue to take jobs from ('*' for all)")] = "*",
    batch: Annotated[bool, typer.Option(help="Run the jobs waiting now, then exit")] = False,
) -> None:
    """Run background jobs (imports, scheduled scoring, reminders) from the database queue."""
    setup_django()
    from django.core.management import call_command

    options = {"queue_name": queue, "batch": batch, "reload": False, "startup_delay": False}
    call_command("db_worker", **options)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="Username")],
    role: Annotated[str, typer.Option(help="admin, manager, sales, support or analyst")],
    team: Annotated[str | None, typer.Option(help="Team name (created if missing)")] = None,
    password: Annotated[str | None, typer.Option(help="Password; a random one is printed if omitted")] = None,
    email: Annotated[str, typer.Option(help="E-mail address")] = "",
) -> None:
    """Create a user with a role, in a team."""

    def create():
        from guanxi.accounts import services

        team_obj = services.create_team(name=team) if team else None
        chosen = password or secrets.token_urlsafe(12)
        user = services.create_user(
            username=name,
            role=role,
            team=team_obj,
            password=chosen,
            email=email,
            check_password_strength=password is not None,
        )
        typer.echo(f"created {user.username} ({user.role}{', ' + team_obj.name if team_obj else ''})", err=True)
        if password is None:
            typer.echo(f"password: {chosen}")

    _run(create)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Username the token is for")],
    label: Annotated[str, typer.Option("--name", help="What the token is for")] = "cli",
) -> None:
    """Create an API token for a user and print only the token on stdout."""

    def create():
        from guanxi.accounts import services
        from guanxi.accounts.models import User

        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            fail(f"no active user named {name}")
        _record, token = services.create_api_token(user=user, name=label)
        typer.echo(token)

    _run(create)


@demo_app.command("load")
def demo_load(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same company")] = 42,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when customers already exist")] = False,
) -> None:
    """Build the demo company: teams, users, ~2,400 customers with the CDNOW purchase histories."""

    def load():
        from guanxi import demo

        if if_empty and demo.has_data():
            typer.echo("demo data already loaded; nothing to do", err=True)
            return
        summary = demo.load(seed=seed, progress=_progress)
        from guanxi.segments import services as scoring

        run = scoring.score_customers(progress=_progress)
        typer.echo(f"scored {run.customers_scored} customers", err=True)
        # SLA policies depend on the customer's ABC tier, known only now: recompute the demo tickets' clocks.
        from django.utils import timezone

        from guanxi.demo import sla as sla_demo

        sla_demo.load(today=timezone.localdate(), seed=seed)
        typer.echo(
            f"loaded {summary['customers']} customers, {summary['orders']} orders, {summary['users']} users",
            err=True,
        )

    _run(load)


@app.command()
def score(
    as_of: Annotated[str | None, typer.Option(help="Score as of this date (YYYY-MM-DD); today by default")] = None,
) -> None:
    """Compute segments, tiers, CLV, probability alive and churn risk for every customer, and write them back."""

    def run():
        from datetime import date

        from guanxi.segments import services

        try:
            when = date.fromisoformat(as_of) if as_of else None
        except ValueError:
            fail(f"--as-of must be a date like 2026-11-23, not {as_of!r}")
        result = services.score_customers(as_of=when, progress=_progress)
        typer.echo(
            f"scored {result.customers_scored} customers as of {result.as_of} "
            f"({result.customers_skipped} opted out of profiling)",
            err=True,
        )

    _run(run)


@app.command()
def stages(
    today: Annotated[str | None, typer.Option(help="Evaluate as of this date (YYYY-MM-DD); today by default")] = None,
) -> None:
    """Re-decide every customer's lifecycle and funnel stage now (the nightly job at 02:40 does the same)."""

    def run():
        from datetime import date

        try:
            when = date.fromisoformat(today) if today else None
        except ValueError:
            fail(f"--today must be a date like 2026-11-23, not {today!r}")
        from guanxi.lifecycle import services

        written = services.evaluate_stages(today=when)
        typer.echo(f"{written} stage transitions written", err=True)

    _run(run)


@ownership_app.command("release-idle")
def ownership_release_idle(
    today: Annotated[str | None, typer.Option(help="Run as of this date (YYYY-MM-DD); today by default")] = None,
    enqueue: Annotated[bool, typer.Option(help="Queue the job for the worker instead of running it here")] = False,
) -> None:
    """Warn owners of idle customers, and return customers idle past their team's limit to the pool (run daily)."""

    def run():
        from datetime import date

        try:
            when = date.fromisoformat(today) if today else None
        except ValueError:
            fail(f"--today must be a date like 2026-11-23, not {today!r}")
        if enqueue:
            from guanxi.ownership.tasks import release_idle_customers_task

            result = release_idle_customers_task.enqueue(when.isoformat() if when else None)
            typer.echo(f"queued job {result.id}", err=True)
            return
        from guanxi.ownership import services

        summary = services.release_idle_customers(when)
        typer.echo(
            f"as of {summary.today}: released {len(summary.released)} customers to the pool, "
            f"warned {len(summary.warned)} owners",
            err=True,
        )

    _run(run)


@app.command()
def dedupe(
    threshold: Annotated[float, typer.Option(help="Match probability from which a pair is queued for review")] = 0.9,
    enqueue: Annotated[bool, typer.Option(help="Queue the job for the worker instead of running it here")] = False,
) -> None:
    """Find likely duplicate customers (Splink on DuckDB) and queue the pairs for review at /customers/duplicates/."""

    def run():
        if not 0 < threshold < 1:
            fail("--threshold must be between 0 and 1")
        if enqueue:
            from guanxi.customers.tasks import find_duplicates_task

            typer.echo(f"queued job {find_duplicates_task.enqueue(threshold).id}", err=True)
            return
        from guanxi.customers import duplicates

        result = duplicates.find_duplicates(threshold=threshold)
        typer.echo(
            f"{result.customers} customers: {result.candidates} likely duplicate pairs "
            f"({result.created} new) in {result.seconds:.1f} s",
            err=True,
        )

    _run(run)


@demo_app.command("logins")
def demo_logins() -> None:
    """Print the demo users and their password."""
    setup_django()
    from guanxi.demo import DEMO_PASSWORD, DEMO_USERS, TEAMS

    for username, role, team_index, _name in DEMO_USERS:
        team = TEAMS[team_index] if team_index is not None else ("all teams" if role == "manager" else "")
        typer.echo(f"  {username:<10} {role:<8} {team:<20} password: {DEMO_PASSWORD}")


def _progress(description: str, total: int):
    from rich.progress import Progress

    progress = Progress(transient=True)
    progress.start()
    task = progress.add_task(description, total=total)

    def advance(n: int = 1, done: bool = False):
        progress.advance(task, n)
        if done:
            progress.stop()

    return advance


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run any Django management command, e.g. ``guanxi manage createsuperuser``."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["guanxi manage", *ctx.args])
