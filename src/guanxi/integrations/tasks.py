"""Background jobs, thin. ``deliver_webhook_task`` makes one attempt of a delivery (services.deliver), enqueued
after the delivery's transaction commits and, for retries, with ``run_after`` set to the backoff time.
``retry_due_webhooks_task`` enqueues deliveries that are due but lost their task (or whose task backend cannot
defer, like the immediate backend)."""

from django_tasks import task

from guanxi.core.context import system_context
from guanxi.integrations import services


@task(queue_name="default")
def deliver_webhook_task(delivery_id: int) -> dict:
    with system_context("job"):
        delivery = services.deliver(delivery_id)
    return {"delivery_id": delivery.pk, "status": delivery.status, "attempts": delivery.attempts}


@task(queue_name="default")
def retry_due_webhooks_task() -> dict:
    with system_context("job"):
        return {"enqueued": services.retry_due_deliveries()}
