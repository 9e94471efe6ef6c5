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
    monkeypatch.setattr(schedule, "_interval_jobs", {})


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


@pytest.mark.django_db
def test_an_interval_job_runs_once_per_slot_of_the_local_day(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule._jobs.clear()
    schedule.register_every("breaches", "guanxi.sla.tasks.check_breaches_task", minutes=5)
    taken: list[str] = []

    def enqueue(job):
        taken.append(job.name)
        return f"task-{len(taken)}"

    assert enqueue_due(at(23, 9, 0), enqueue=enqueue) == ["breaches"]
    assert enqueue_due(at(23, 9, 4), enqueue=enqueue) == []  # same slot 09:00-09:05
    assert enqueue_due(at(23, 9, 5), enqueue=enqueue) == ["breaches"]
    # 09:10 and 09:15 were missed (no scheduler ran): only the current slot runs, once.
    assert enqueue_due(at(23, 9, 17), enqueue=enqueue) == ["breaches"]
    assert enqueue_due(at(23, 9, 19), enqueue=enqueue) == []
    assert taken == ["breaches"] * 3
    assert sorted(ScheduledRun.objects.values_list("name", flat=True)) == [
        "breaches@0900",
        "breaches@0905",
        "breaches@0915",
    ]
    # The same slot of the next local day runs again; slot rows older than yesterday are cleaned up.
    assert enqueue_due(at(24, 9, 0), enqueue=enqueue) == ["breaches"]
    assert enqueue_due(at(26, 9, 0), enqueue=enqueue) == ["breaches"]
    assert sorted(ScheduledRun.objects.values_list("day", "name")) == [(at(26, 9).date(), "breaches@0900")]


@pytest.mark.django_db
def test_a_slot_another_scheduler_took_is_not_enqueued_again(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    schedule._jobs.clear()
    schedule.register_every("breaches", "guanxi.sla.tasks.check_breaches_task", minutes=15)
    ScheduledRun.objects.create(name="breaches@1000", day=at(23, 10).date())
    assert enqueue_due(at(23, 10, 14), enqueue=lambda job: "x") == []
    assert enqueue_due(at(23, 10, 15), enqueue=lambda job: "x") == ["breaches"]


@pytest.mark.parametrize("name, minutes", [("breaches", 7), ("breaches", 0), ("a@b", 5), ("x" * 59, 5)])
def test_interval_jobs_need_slots_that_divide_the_day_and_a_plain_name(name, minutes):
    with pytest.raises(ValueError):
        schedule.register_every(name, "guanxi.sla.tasks.check_breaches_task", minutes=minutes)
