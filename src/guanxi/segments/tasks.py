"""Background jobs, thin. ``score_customers_task`` runs nightly through the scheduler (core.schedule)."""

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.segments import services


@task(queue_name="default")
def score_customers_task() -> dict:
    """Score every customer as of today and write the results back (see services.score_customers)."""
    with system_context("job"):
        run = services.score_customers()
    return {"run_id": run.pk, "as_of": run.as_of.isoformat(), "customers_scored": run.customers_scored}
