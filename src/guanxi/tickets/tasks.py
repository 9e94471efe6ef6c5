"""Background jobs, thin: the daily auto-close of resolved tickets (core.schedule); a rerun changes nothing."""

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.tickets import services


@task(queue_name="default")
def close_resolved_task() -> dict:
    """Close tickets resolved more than GUANXI_TICKET_AUTO_CLOSE_DAYS (default 7) days ago."""
    with system_context("job"):
        closed = services.close_resolved()
    return {"closed": closed}
