"""Business time: adding and measuring working seconds on a calendar of weekly hours, holidays and make-up days.

Framework-free (no Django): the sla services build a ``CalendarSpec`` from a ``BusinessCalendar`` row and its
``Holiday`` rows and call these functions.

- Weekly hours are several intervals per weekday in local wall-clock time (``09:00-12:00`` and ``13:00-18:00``
  for a lunch break); ``24:00`` as an end means midnight at the end of that day.
- A holiday date has no working time even on a weekday. A make-up working day (调休, a Saturday or Sunday the
  State Council declares a working day) has the hours of ``makeup_weekday`` (Monday by default).
- Every interval is converted to UTC through ``zoneinfo`` before any arithmetic, so a day on which daylight
  saving time starts or ends counts the real elapsed seconds (aware datetimes in the same zone subtract as wall
  clock time in Python, which would be an hour off). A wall-clock time inside a DST gap is read with the offset
  in force before the transition, as ``zoneinfo`` does (fold=0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with working hours has a working day within a few weeks, even across the Spring Festival; a search
# that finds none in this many days means the calendar has no working time at all.
_MAX_EMPTY_DAYS = 400

Interval = tuple[time, time | None]  # end None = 24:00


class NoBusinessTime(ValueError):
    """The calendar has no working hours, so no due time can be computed."""


def parse_hours(hours: dict[str, list[list[str]]]) -> tuple[tuple[Interval, ...], ...]:
    """``{"mon": [["09:00", "12:00"], ...], ...}`` -> seven tuples of (start, end) intervals, Monday first.

    Raises ``ValueError`` for a malformed time, an interval that ends before it starts, or overlapping intervals.
    """
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekday keys: {', '.join(sorted(unknown))}")
    week = []
    for key in WEEKDAYS:
        intervals: list[Interval] = []
        for pair in hours.get(key) or []:
            if len(pair) != 2:
                raise ValueError(f"{key}: an interval is [start, end]")
            start = _parse_time(pair[0], allow_24=False)
            assert start is not None  # only an end may be 24:00
            end = _parse_time(pair[1], allow_24=True)
            if end is not None and end <= start:
                raise ValueError(f"{key}: {pair[0]}-{pair[1]} ends before it starts")
            intervals.append((start, end))
        intervals.sort(key=lambda iv: iv[0])
        for (_s1, e1), (s2, _e2) in pairwise(intervals):
            if e1 is None or e1 > s2:
                raise ValueError(f"{key}: intervals overlap")
        week.append(tuple(intervals))
    return tuple(week)


def _parse_time(text: str, *, allow_24: bool) -> time | None:
    text = str(text).strip()
    if allow_24 and text in ("24:00", "24:00:00"):
        return None
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a time of day: {text!r}") from exc


@dataclass(frozen=True)
class CalendarSpec:
    """A working calendar: time zone, weekly hours (Monday first), holiday dates and make-up working dates."""

    tz: str
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    makeup_weekday: int = 0  # make-up working days have the hours of this weekday (0 = Monday)

    @classmethod
    def build(
        cls,
        tz: str,
        hours: dict[str, list[list[str]]],
        holidays=(),
        workdays=(),
        makeup_weekday: int = 0,
    ) -> CalendarSpec:
        return cls(tz, parse_hours(hours), frozenset(holidays), frozenset(workdays), makeup_weekday)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("week needs seven days of intervals")
        ZoneInfo(self.tz)  # raises for an unknown zone

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of local date ``day`` as (start, end) UTC datetimes, in order."""
        return _intervals_on(self, day)

    def is_working_day(self, day: date) -> bool:
        return bool(self.intervals_on(day))


@lru_cache(maxsize=8192)
def _intervals_on(spec: CalendarSpec, day: date) -> tuple[tuple[datetime, datetime], ...]:
    if day in spec.workdays:
        intervals = spec.week[spec.makeup_weekday]
    elif day in spec.holidays:
        return ()
    else:
        intervals = spec.week[day.weekday()]
    zone = ZoneInfo(spec.tz)
    result = []
    for start, end in intervals:
        start_utc = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
        if end is None:
            end_utc = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        else:
            end_utc = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
        if end_utc > start_utc:  # an interval swallowed by a DST gap has no working time
            result.append((start_utc, end_utc))
    return tuple(result)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return moment.astimezone(UTC)


def _local_date(moment: datetime, spec: CalendarSpec) -> date:
    if moment.tzinfo is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return moment.astimezone(ZoneInfo(spec.tz)).date()


def add_business_time(start: datetime, seconds: float, spec: CalendarSpec) -> datetime:
    """The moment ``seconds`` of working time after ``start`` (UTC).

    Adding 0 returns ``start`` itself, even outside working hours. Time after the last interval of a day moves on
    to the next working interval, skipping weekends and holidays and counting make-up working days. A target that
    falls exactly at the end of an interval is that end (18:00), not the next morning.
    """
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    start = _utc(start)
    if seconds == 0:
        return start
    remaining = timedelta(seconds=seconds)
    day = _local_date(start, spec) - timedelta(days=1)  # an interval ending at 24:00 may still be open
    empty_days = 0
    while True:
        intervals = spec.intervals_on(day)
        empty_days = 0 if intervals else empty_days + 1
        if empty_days > _MAX_EMPTY_DAYS:
            raise NoBusinessTime("the calendar has no working hours")
        for begin, end in intervals:
            if end <= start:
                continue
            begin = max(begin, start)
            available = end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)


def business_seconds_between(a: datetime, b: datetime, spec: CalendarSpec) -> int:
    """Whole working seconds from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    if _utc(b) < _utc(a):
        return -business_seconds_between(b, a, spec)
    return int(business_time_between(a, b, spec).total_seconds())


def business_time_between(a: datetime, b: datetime, spec: CalendarSpec) -> timedelta:
    """Working time from ``a`` to ``b`` (``a <= b``) as a timedelta, microseconds included."""
    a, b = _utc(a), _utc(b)
    total = timedelta(0)
    if b <= a:
        return total
    day = _local_date(a, spec) - timedelta(days=1)
    last = _local_date(b, spec)
    while day <= last:
        for begin, end in spec.intervals_on(day):
            lo, hi = max(begin, a), min(end, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def is_business_time(moment: datetime, spec: CalendarSpec) -> bool:
    moment = _utc(moment)
    day = _local_date(moment, spec)
    return any(begin <= moment < end for d in (day - timedelta(days=1), day) for begin, end in spec.intervals_on(d))
