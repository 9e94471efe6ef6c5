"""Business time arithmetic (guanxi.sla.hours): no database."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.sla.hours import (
    CalendarSpec,
    NoBusinessTime,
    add_business_time,
    business_seconds_between,
    is_business_time,
    parse_hours,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
HOUR = 3600

# Qingming 2026 (State Council notice): Sat 4 April to Mon 6 April off. Labour Day 2026: 1-5 May off, Saturday
# 9 May a make-up working day.
HOLIDAYS_2026 = {date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6)} | {date(2026, 5, d) for d in range(1, 6)}
WORKDAYS_2026 = {date(2026, 5, 9)}


def china() -> CalendarSpec:
    return CalendarSpec.build("Asia/Shanghai", OFFICE, HOLIDAYS_2026, WORKDAYS_2026)


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_within_one_morning():
    assert add_business_time(sh(2026, 3, 2, 9, 30), HOUR, china()) == sh(2026, 3, 2, 10, 30)


def test_lunch_break_is_skipped():
    assert add_business_time(sh(2026, 3, 2, 11, 30), HOUR, china()) == sh(2026, 3, 2, 13, 30)
    assert business_seconds_between(sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 14, 0), china()) == 2 * HOUR


def test_end_of_day_lands_on_closing_time_not_next_morning():
    assert add_business_time(sh(2026, 3, 2, 17, 0), HOUR, china()) == sh(2026, 3, 2, 18, 0)


def test_evening_start_counts_from_next_morning():
    assert add_business_time(sh(2026, 3, 2, 20, 0), HOUR, china()) == sh(2026, 3, 3, 10, 0)


def test_zero_seconds_is_the_start_itself():
    start = sh(2026, 3, 7, 23, 0)  # a Saturday night
    assert add_business_time(start, 0, china()) == start


def test_friday_evening_before_qingming_monday_is_due_on_tuesday():
    # Friday 3 April 2026, 18:30; the Monday after is a holiday.
    start = sh(2026, 4, 3, 18, 30)
    assert add_business_time(start, 4 * HOUR, china()) == sh(2026, 4, 7, 14, 0)
    assert business_seconds_between(start, sh(2026, 4, 7, 9, 0), china()) == 0


def test_makeup_saturday_is_a_working_day():
    # Friday 8 May 2026 17:00 + 2 h: one hour on Friday, one on the make-up Saturday 9 May.
    assert add_business_time(sh(2026, 5, 8, 17, 0), 2 * HOUR, china()) == sh(2026, 5, 9, 10, 0)
    ordinary = CalendarSpec.build("Asia/Shanghai", OFFICE)
    assert add_business_time(sh(2026, 5, 8, 17, 0), 2 * HOUR, ordinary) == sh(2026, 5, 11, 10, 0)


def test_labour_day_week_is_skipped():
    # Thursday 30 April 17:00 + 3 h -> 1 h on Thursday, then 1-5 May off, Wednesday 6 May 11:00.
    assert add_business_time(sh(2026, 4, 30, 17, 0), 3 * HOUR, china()) == sh(2026, 5, 6, 11, 0)


def test_midnight_spanning_hours():
    spec = CalendarSpec.build("Asia/Shanghai", {"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]})
    assert add_business_time(sh(2026, 3, 2, 23, 0), 2 * HOUR, spec) == sh(2026, 3, 3, 1, 0)
    assert business_seconds_between(sh(2026, 3, 2, 19, 0), sh(2026, 3, 3, 3, 0), spec) == 6 * HOUR


def test_daylight_saving_start_counts_real_hours():
    # Berlin moves from 02:00 to 03:00 on Sunday 29 March 2026: that day has 23 hours.
    spec = CalendarSpec.build("Europe/Berlin", {d: [["00:00", "24:00"]] for d in ("sat", "sun", "mon")})
    day_start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    next_day = datetime(2026, 3, 30, 0, 0, tzinfo=BERLIN)
    assert business_seconds_between(day_start, next_day, spec) == 23 * HOUR
    assert add_business_time(day_start, 23 * HOUR, spec) == next_day.astimezone(UTC)
    # 01:30 + 1 h of real time is 03:30 on the wall clock.
    assert add_business_time(datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), HOUR, spec) == datetime(
        2026, 3, 29, 3, 30, tzinfo=BERLIN
    )


def test_daylight_saving_end_counts_the_repeated_hour():
    spec = CalendarSpec.build("Europe/Berlin", {"sun": [["00:00", "24:00"]]})
    assert (
        business_seconds_between(
            datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN), datetime(2026, 10, 26, 0, 0, tzinfo=BERLIN), spec
        )
        == 25 * HOUR
    )


def test_office_hours_in_a_dst_zone_stay_on_the_wall_clock():
    spec = CalendarSpec.build("Europe/Berlin", OFFICE)
    # Friday 27 March 17:00 + 2 h -> Monday 30 March 10:00 local (after the change to summer time).
    assert add_business_time(datetime(2026, 3, 27, 17, 0, tzinfo=BERLIN), 2 * HOUR, spec) == datetime(
        2026, 3, 30, 10, 0, tzinfo=BERLIN
    )


def test_negative_when_reversed():
    spec = china()
    assert business_seconds_between(sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 10, 0), spec) == -HOUR


def test_is_business_time():
    spec = china()
    assert is_business_time(sh(2026, 3, 2, 9, 0), spec)
    assert not is_business_time(sh(2026, 3, 2, 12, 30), spec)
    assert not is_business_time(sh(2026, 4, 6, 10, 0), spec)  # Qingming Monday
    assert is_business_time(sh(2026, 5, 9, 10, 0), spec)  # make-up Saturday


def test_calendar_without_hours_raises():
    with pytest.raises(NoBusinessTime):
        add_business_time(sh(2026, 3, 2, 9, 0), HOUR, CalendarSpec.build("Asia/Shanghai", {}))


@pytest.mark.parametrize(
    "hours",
    [
        {"mon": [["18:00", "09:00"]]},
        {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {"mon": [["9am", "12:00"]]},
        {"monday": [["09:00", "12:00"]]},
        {"mon": [["09:00"]]},
    ],
)
def test_malformed_hours_are_refused(hours):
    with pytest.raises(ValueError):
        parse_hours(hours)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_business_time(datetime(2026, 3, 2, 9, 0), HOUR, china())


moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)
spans = st.integers(min_value=0, max_value=120 * HOUR)
specs = st.sampled_from(
    [
        china(),
        CalendarSpec.build("Europe/Berlin", OFFICE),
        CalendarSpec.build("America/New_York", {d: [["00:00", "03:00"], ["22:30", "24:00"]] for d in OFFICE}),
    ]
)


@settings(max_examples=150, deadline=None)
@given(start=moments, seconds=spans, spec=specs)
def test_adding_then_measuring_gives_the_seconds_back(start, seconds, spec):
    due = add_business_time(start, seconds, spec)
    assert due >= start
    assert business_seconds_between(start, due, spec) == seconds


@settings(max_examples=100, deadline=None)
@given(start=moments, a=spans, b=spans, spec=specs)
def test_adding_is_monotonic(start, a, b, spec):
    low, high = sorted((a, b))
    assert add_business_time(start, low, spec) <= add_business_time(start, high, spec)


@settings(max_examples=100, deadline=None)
@given(a=moments, b=moments, c=moments, spec=specs)
def test_measuring_is_additive(a, b, c, spec):
    a, b, c = sorted((a, b, c))
    assert business_seconds_between(a, c, spec) == business_seconds_between(a, b, spec) + business_seconds_between(
        b, c, spec
    )
    assert business_seconds_between(a, c, spec) <= (c - a).total_seconds()


def test_long_span_is_counted_week_by_week():
    # A year of the Shanghai office calendar without holidays: 52 weeks x 5 days x 8 h, plus one Thursday.
    ordinary = CalendarSpec.build("Asia/Shanghai", OFFICE)
    start = sh(2026, 1, 1, 0, 0)  # a Thursday
    assert business_seconds_between(start, start + timedelta(days=365), ordinary) == (52 * 5 + 1) * 8 * HOUR
