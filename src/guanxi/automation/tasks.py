"""Background jobs, thin. ``run_daily_rules_task`` runs once a day from the scheduler (05:00)."""

from datetime import date

from django_tasks import task

from guanxi.automation import engine
from guanxi.core.context import system_context


@task(queue_name="default")
def run_daily_rules_task(today: str | None = None) -> dict:
    """Run every active daily rule over the customers matching its condition (see engine.run_daily)."""
    with system_context("job"):
        return engine.run_daily(date.fromisoformat(today) if today else None)
