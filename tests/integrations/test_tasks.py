"""Deliveries run as django-tasks tasks: the first attempt is enqueued after commit, a retry with ``run_after`` at
the backoff time (database backend); with the immediate backend the attempt runs at commit."""

import pytest
from django_tasks_db.models import DBTaskResult

from guanxi.integrations import services
from guanxi.integrations.models import WebhookDelivery

pytestmark = pytest.mark.django_db

TASK = "guanxi.integrations.tasks.deliver_webhook_task"


@pytest.fixture
def endpoint(users, receiver):
    return services.create_endpoint(actor=users["admin"], url=receiver.url, event_types=["x.*"], allow_private=True)


def test_first_attempt_is_enqueued_after_commit_and_a_retry_at_the_backoff_time(
    endpoint, receiver, fast_retries, django_capture_on_commit_callbacks
):
    receiver.answer((500, "boom"), (200, "ok"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = services.queue_webhook(endpoint=endpoint, event_type="x.y", payload={})
    assert not DBTaskResult.objects.filter(task_path=TASK).exists()  # nothing while the transaction is open
    for callback in callbacks:
        callback()
    (first,) = DBTaskResult.objects.filter(task_path=TASK)
    assert first.args_kwargs["args"] == [delivery.pk]

    with django_capture_on_commit_callbacks(execute=True):
        retried = services.deliver(delivery.pk)

    retry = DBTaskResult.objects.filter(task_path=TASK).exclude(pk=first.pk).get()
    assert retry.run_after == retried.next_attempt_at
    assert retried.status == WebhookDelivery.Status.RETRYING


def test_immediate_backend_delivers_at_commit(endpoint, receiver, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.queue_webhook(endpoint=endpoint, event_type="x.y", payload={"a": 1})

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and len(receiver.requests) == 1


def test_sweeper_enqueues_due_deliveries_only(endpoint, django_capture_on_commit_callbacks):
    due = services.queue_webhook(endpoint=endpoint, event_type="x.y", payload={})
    later = services.queue_webhook(endpoint=endpoint, event_type="x.y", payload={})
    WebhookDelivery.objects.filter(pk=later.pk).update(status="retrying", next_attempt_at="2999-01-01T00:00:00Z")

    assert services.retry_due_deliveries() == 1
    (task,) = DBTaskResult.objects.filter(task_path=TASK)
    assert task.args_kwargs["args"] == [due.pk]
