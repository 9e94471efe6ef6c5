"""Background jobs, thin."""

from datetime import date

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.surveys import services


@task(queue_name="default")
def send_segment_surveys_task(today: str | None = None) -> dict:
    """Invite the customers of every active segment survey's audience who are due (daily; a rerun adds none)."""
    with system_context("job"):
        return services.send_segment_surveys(today=date.fromisoformat(today) if today else None)
