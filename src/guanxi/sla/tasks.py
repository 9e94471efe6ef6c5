"""Background jobs of the sla app (thin: the work is in services)."""

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.sla import services


@task(queue_name="default")
def check_breaches_task() -> dict:
    """Every five minutes (core.schedule.register_every): record and escalate the SLA targets that passed."""
    with system_context("job"):
        escalated = services.check_breaches()
    return {"escalated": escalated}
