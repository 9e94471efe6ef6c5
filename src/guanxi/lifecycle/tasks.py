"""Background jobs, thin: the nightly stage evaluation (after scoring) and the re-evaluation after an edit."""

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.lifecycle import services


@task(queue_name="default")
def evaluate_stages_task(source: str = "nightly") -> dict:
    """Re-decide every customer's lifecycle and funnel stage; returns the number of transitions written."""
    with system_context("job"):
        written = services.evaluate_stages(source=source)
    return {"transitions": written}
