"""The daily scheduler enqueues each registered job once per local day, after its time, for the real worker queue."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

from guanxi.core import schedule
from guanxi.core.models import ScheduledRun
from guanxi.core.schedule import daily_jobs, enqueue_due

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST_JOBS = ("score", "release_idle", "find_duplicates")


@pytest.fixture(autouse=True)
def _first_jobs(monkeypatch):
    """The scheduler's behaviour on the first three apps' jobs (later apps add theirs at other times)."""
    monkeypatch.setattr(schedule, "_jobs", {k: v for k, v in schedule._jobs.items() if k in FIRST_JOBS})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_the_apps_register_scoring_release_and_dedupe_in_that_order():
    assert [job.name for job in daily_jobs()][:3] == ["score", "release_idle", "find_duplicates"]


@pytest.mark.django_db
def test_each_job_is_enqueued_once_a_day_after_its_time(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert enqueue_due(at(23, 1, 59)) == []
    assert enqueue_due(at(23, 2, 0)) == ["score"]
    assert enqueue_due(at(23, 2, 30)) == []
    assert enqueue_due(at(23, 4, 5)) == ["release_idle", "find_duplicates"]
    assert enqueue_due(at(23, 23, 59)) == []

    runs = list(ScheduledRun.objects.order_by("enqueued_at", "id").values_list("name", "day", "task_id"))
    assert [(name, str(day)) for name, day, _ in runs] == [
        ("score", "2026-11-23"),
        ("release_idle", "2026-11-23"),
        ("find_duplicates", "2026-11-23"),
    ]
    queued = DBTaskResult.objects.filter(id__in=[task_id for *_, task_id in runs])
    assert sorted(queued.values_list("task_path", flat=True)) == [
        "guanxi.customers.tasks.find_duplicates_task",
        "guanxi.ownership.tasks.release_idle_customers_task",
        "guanxi.segments.tasks.score_customers_task",
    ]
    # The next local day starts again; 01:00 in Shanghai is still the previous day in UTC.
    assert enqueue_due(at(24, 3, 0)) == ["score", "release_idle"]


@pytest.mark.django_db
def test_a_job_another_scheduler_already_took_is_not_enqueued_again(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    ScheduledRun.objects.create(name="score", day=at(23, 0).date())
    before = DBTaskResult.objects.count()
    assert enqueue_due(at(23, 2, 1)) == []
    assert DBTaskResult.objects.count() == before
