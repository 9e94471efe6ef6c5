"""Daily jobs: what runs every night, and the scheduler loop that enqueues them for the worker.

Apps register their jobs in ``AppConfig.ready()``::

    register_daily("score", "guanxi.segments.tasks.score_customers_task", at=time(2, 0))

``enqueue_due()`` enqueues each job once per local day (``TIME_ZONE``) once its time has passed, and records a
``ScheduledRun`` row whose unique (name, day) keeps two schedulers (or a restart) from enqueueing it twice. A job
whose time passed while no scheduler ran is enqueued when one starts, the same day only: a missed day is not
caught up, because every daily job works from the current state (scores as of today, idle customers today).
``guanxi serve`` runs the scheduler beside the worker; ``guanxi scheduler`` runs it alone.

Interval jobs (``register_every("sla_breaches", "guanxi.sla.tasks.check_breaches_task", minutes=5)``) run once per
slot of the local day (00:00, 00:05, ...): the ``ScheduledRun`` row is named ``<job>@HHMM`` for the slot, so the
same unique (name, day) keeps them to one run per slot. A slot missed while no scheduler ran is not caught up: the
next slot's run does the work. Slot rows older than yesterday are deleted as new slots are taken.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

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


@dataclass(frozen=True)
class IntervalJob:
    name: str
    task: str  # dotted path of a django-tasks Task
    minutes: int

    def slot_name(self, local: datetime) -> str:
        """``<name>@HHMM``: the start of the slot of the local day that ``local`` falls in."""
        minute = (local.hour * 60 + local.minute) // self.minutes * self.minutes
        return f"{self.name}@{minute // 60:02d}{minute % 60:02d}"


_interval_jobs: dict[str, IntervalJob] = {}
SLOT_SEPARATOR = "@"


def register_every(name: str, task: str, *, minutes: int) -> None:
    """Run ``task`` (a dotted path, imported when due) once in every ``minutes``-long slot of the local day.

    ``minutes`` must divide a day (5, 10, 15, 30, 60 ...), so slots line up with the local clock every day.
    """
    if SLOT_SEPARATOR in name or len(name) > 58:
        raise ValueError("an interval job's name has no '@' and at most 58 characters")
    if minutes < 1 or (24 * 60) % minutes:
        raise ValueError("minutes must divide a day")
    _interval_jobs[name] = IntervalJob(name, task, minutes)


def interval_jobs() -> list[IntervalJob]:
    return sorted(_interval_jobs.values(), key=lambda job: (job.minutes, job.name))


def enqueue_due(
    now: datetime | None = None, *, enqueue: Callable[[DailyJob | IntervalJob], str] | None = None
) -> list[str]:
    """Enqueue the daily jobs due by ``now`` that have not run today, then the interval jobs whose current slot
    has not run; return their names."""
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
    enqueued += _enqueue_interval_jobs(local, enqueue or _enqueue)
    return enqueued


def _enqueue_interval_jobs(local: datetime, enqueue: Callable) -> list[str]:
    enqueued = []
    for job in interval_jobs():
        slot = job.slot_name(local)
        if ScheduledRun.objects.filter(name=slot, day=local.date()).exists():
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(name=slot, day=local.date())
                run.task_id = enqueue(job)
                run.save(update_fields=["task_id"])
        except IntegrityError:  # another scheduler took this slot first
            continue
        enqueued.append(job.name)
    if enqueued:
        ScheduledRun.objects.filter(name__contains=SLOT_SEPARATOR, day__lt=local.date() - timedelta(days=1)).delete()
    return enqueued


def _enqueue(job: DailyJob | IntervalJob) -> str:
    result = import_string(job.task).enqueue()
    return str(result.id)
