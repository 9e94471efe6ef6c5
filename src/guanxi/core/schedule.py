"""Daily jobs: what runs every night, and the scheduler loop that enqueues them for the worker.

Apps register their jobs in ``AppConfig.ready()``::

    register_daily("score", "guanxi.segments.tasks.score_customers_task", at=time(2, 0))

``enqueue_due()`` enqueues each job once per local day (``TIME_ZONE``) once its time has passed, and records a
``ScheduledRun`` row whose unique (name, day) keeps two schedulers (or a restart) from enqueueing it twice. A job
whose time passed while no scheduler ran is enqueued when one starts, the same day only: a missed day is not
caught up, because every daily job works from the current state (scores as of today, idle customers today).
``guanxi serve`` runs the scheduler beside the worker; ``guanxi scheduler`` runs it alone.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from guanxi.core.models import ScheduledRun


@dataclass(frozen=True)
class DailyJob:
    name: str
    task: str  # dotted path of a django-tasks Task
    at: time


_jobs: dict[str, DailyJob] = {}


def register_daily(name: str, task: str, *, at: time) -> None:
    """Run ``task`` (a dotted path, imported when due) every day at local time ``at``."""
    _jobs[name] = DailyJob(name, task, at)


def daily_jobs() -> list[DailyJob]:
    return sorted(_jobs.values(), key=lambda job: (job.at, job.name))


def enqueue_due(now: datetime | None = None, *, enqueue: Callable[[DailyJob], str] | None = None) -> list[str]:
    """Enqueue the jobs due by ``now`` that have not run today; return their names."""
    local = timezone.localtime(now or timezone.now())
    done = set(ScheduledRun.objects.filter(day=local.date()).values_list("name", flat=True))
    enqueued = []
    for job in daily_jobs():
        if job.name in done or local.time() < job.at:
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(name=job.name, day=local.date())
                run.task_id = (enqueue or _enqueue)(job)
                run.save(update_fields=["task_id"])
        except IntegrityError:  # another scheduler took it first
            continue
        enqueued.append(job.name)
    return enqueued


def _enqueue(job: DailyJob) -> str:
    result = import_string(job.task).enqueue()
    return str(result.id)
