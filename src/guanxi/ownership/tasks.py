"""Background jobs, thin. Schedule ``release_idle_customers_task`` once a day (or run
``guanxi ownership release-idle`` from cron); running it twice a day changes nothing the second time."""

from datetime import date

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.ownership import services


@task(queue_name="default")
def release_idle_customers_task(today: str | None = None) -> dict:
    """Warn owners of idle customers and return the idle ones to their team's pool (see services)."""
    with system_context("job"):
        summary = services.release_idle_customers(date.fromisoformat(today) if today else None)
    return {"today": summary.today.isoformat(), "released": len(summary.released), "warned": len(summary.warned)}
