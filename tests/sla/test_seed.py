"""The seeded China calendar: State Council holidays 2025/2026 cross-checked against the holidays package."""

import importlib
from datetime import date

import holidays
import pytest

seed = importlib.import_module("guanxi.sla.migrations.0002_default_calendar_and_policies")


def test_our_2025_and_2026_days_off_include_every_day_the_holidays_package_has():
    ours = {day for day, _name, _zh, kind in seed.holiday_rows() if kind == "holiday"}
    for year in (2025, 2026):
        theirs = set(holidays.China(years=year))
        assert theirs - ours == set(), year


def test_makeup_working_days_are_weekend_days_outside_the_holidays():
    rows = seed.holiday_rows()
    workdays = [day for day, _n, _z, kind in rows if kind == "workday"]
    off = {day for day, _n, _z, kind in rows if kind == "holiday"}
    assert len(workdays) == 11  # 2025: 5, 2026: 6 (the State Council notices)
    assert all(day.weekday() >= 5 for day in workdays)
    assert not off & set(workdays)
    assert len(rows) == len({row[0] for row in rows})


def test_2027_holidays_follow_the_package_until_the_notice_is_published():
    ours = {day for day, *_rest in seed.holiday_rows() if day.year == 2027}
    assert ours == set(holidays.China(years=2027))


@pytest.mark.django_db
def test_the_default_calendar_and_policies_are_seeded():
    from guanxi.sla.models import BusinessCalendar, SLAPolicy

    calendar = BusinessCalendar.objects.get(is_default=True)
    assert calendar.time_zone == "Asia/Shanghai"
    assert calendar.hours["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert "sat" not in calendar.hours
    spec = calendar.spec()
    assert date(2026, 10, 1) in spec.holidays and date(2026, 10, 10) in spec.workdays
    targets = {(p.priority, p.tier): (p.first_response_minutes, p.resolution_minutes) for p in SLAPolicy.objects.all()}
    assert targets[("urgent", "")] == (60, 240)
    assert targets[("high", "")] == (120, 480)
    assert targets[("normal", "")] == (240, 1440)
    assert targets[("low", "")] == (480, 2400)
    assert all(targets[(p, "A")] == (f // 2, r // 2) for (p, tier), (f, r) in targets.items() if tier == "")


def test_the_app_registers_its_trigger_and_the_five_minute_check():
    from guanxi.automation.triggers import known
    from guanxi.core.schedule import interval_jobs

    assert known("ticket.sla_breached")
    job = next(job for job in interval_jobs() if job.name == "sla_breaches")
    assert job.minutes == 5 and job.task == "guanxi.sla.tasks.check_breaches_task"


@pytest.mark.django_db
def test_the_breach_task_runs_the_check():
    from guanxi.sla.tasks import check_breaches_task

    assert check_breaches_task.call() == {"escalated": 0}
