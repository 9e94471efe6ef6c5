"""Background jobs, thin. Schedule ``find_duplicates_task`` (e.g. nightly) or run ``guanxi dedupe`` from cron."""

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.customers import duplicates


@task(queue_name="default")
def find_duplicates_task(threshold: float = duplicates.THRESHOLD) -> dict:
    """Score likely duplicate customers with Splink and refresh the review queue."""
    with system_context("job"):
        result = duplicates.find_duplicates(threshold=threshold)
    return {
        "customers": result.customers,
        "candidates": result.candidates,
        "created": result.created,
        "trained": result.trained,
        "seconds": round(result.seconds, 2),
    }
