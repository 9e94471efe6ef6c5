"""Service-process analysis of a ticket status event log (framework-free: pandas and numpy only).

Input: a DataFrame with one row per status event, columns ``case_id`` (any hashable), ``status`` (the status the
case entered), ``at`` (timezone-aware or naive datetimes, all alike), and optional case attributes ``category``,
``team``, ``priority``, ``agent`` as they were at that event. Rows may come in any order; ties in ``at`` keep their
input order. The creation counts as an event (the case enters its first status).

Model: each event opens an *interval* in its status which ends at the case's next event, or at ``as_of`` for the
current status. Once a case sits in a terminal status (``StatusClasses.terminal``, default resolved and closed)
with no later event it is done, so that final interval is not counted as time (otherwise every old resolved
ticket would accumulate months of "resolved" time). A resolved case that is reopened has its resolved interval
counted up to the reopening, which is what a reopen loop costs.

Units: durations in wall-clock hours. Business hours (the SLA clock, holidays, make-up days) belong to the sla app;
this module deliberately measures elapsed time, which is what the customer experiences.

This is the process-mining "performance spectrum" reduced to its descriptive core: a directly-follows graph with
frequencies and median durations (van der Aalst, *Process Mining*, 2nd ed., 2016, ch. 6-9), plus a bottleneck
ranking by *excess hours*: for a group of cases (status x attribute value), the hours it accumulated beyond what
the same number of cases would have taken at the median of the rest.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

DIMENSIONS = ("category", "team", "priority")
ATTRIBUTES = ("category", "team", "priority", "agent")
AGE_BUCKETS = ((0, 24, "< 1 d"), (24, 72, "1-3 d"), (72, 168, "3-7 d"), (168, 336, "7-14 d"), (336, 720, "14-30 d"))
LAST_BUCKET = "> 30 d"
HOUR = np.timedelta64(3600, "s")


class ProcessInputError(ValueError):
    """The event log is malformed (missing columns, unparseable or missing timestamps)."""


@dataclass(frozen=True)
class StatusClasses:
    """Which statuses count as waiting (on the queue or the customer), working, and done."""

    waiting: tuple[str, ...] = ("new", "pending")
    working: tuple[str, ...] = ("open",)
    terminal: tuple[str, ...] = ("resolved", "closed")
    reopen_targets: tuple[str, ...] = ("new", "open", "pending", "reopened")


@dataclass
class Bottleneck:
    status: str
    dimension: str  # "category" or "category+team"
    value: str  # "return" or "return / South China"
    cases: int
    total_hours: float
    share: float  # of all counted hours
    median_hours: float  # per case, time in this status for this group
    rest_median_hours: float  # per case, same status, every other case
    status_median_hours: float  # per case, same status, all cases
    ratio: float  # median_hours / rest_median_hours
    excess_hours: float  # total_hours - cases * mean hours of the rest

    @property
    def explanation(self) -> str:
        """Plain English; pages build the translated sentence from the fields."""
        times = f"{self.ratio:.1f}x the rest" if np.isfinite(self.ratio) else "where the rest spend no time"
        return (
            f"{self.value} tickets ({self.dimension}) wait a median {self.median_hours:.0f} h in {self.status}, "
            f"{times} ({self.share:.0%} of all time, {self.excess_hours:.0f} h in excess)"
        )


@dataclass
class ProcessMap:
    nodes: pd.DataFrame  # status, visits, cases, total_hours, median_hours (per visit)
    edges: pd.DataFrame  # source, target, count, median_hours (time in source before moving to target)


@dataclass
class ProcessAnalysis:
    as_of: pd.Timestamp
    intervals: pd.DataFrame
    time_in_status: pd.DataFrame  # index case_id, one column per status, hours
    waiting_working: pd.DataFrame  # index case_id: waiting_hours, working_hours, share_waiting
    reopens: pd.Series  # index case_id: number of reopen loops
    queue_ageing: pd.DataFrame  # bucket, status, cases
    throughput: pd.DataFrame  # index day: arrivals, resolved
    process_map: ProcessMap
    bottlenecks: list[Bottleneck] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return int(self.time_in_status.shape[0])


def _prepare(events: pd.DataFrame, as_of) -> tuple[pd.DataFrame, pd.Timestamp]:
    missing = {"case_id", "status", "at"} - set(events.columns)
    if missing:
        raise ProcessInputError(f"missing columns: {', '.join(sorted(missing))}")
    keep = ["case_id", "status", "at"] + [c for c in ATTRIBUTES if c in events.columns]
    frame = events[keep].copy()
    try:
        frame["at"] = pd.to_datetime(frame["at"])
    except (TypeError, ValueError) as exc:
        raise ProcessInputError(f"unparseable timestamps: {exc}") from exc
    if frame["at"].isna().any():
        raise ProcessInputError("events without a timestamp")
    frame["status"] = frame["status"].astype(str)
    as_of = pd.Timestamp(as_of) if as_of is not None else frame["at"].max()
    tz = frame["at"].dt.tz
    if tz is not None and as_of.tzinfo is None:
        raise ProcessInputError("as_of must be timezone-aware like the events")
    if tz is None and as_of.tzinfo is not None:
        raise ProcessInputError("as_of must be naive like the events")
    # Events after as_of are in the future of the analysis.
    frame = frame[frame["at"] <= as_of]
    frame = frame.sort_values(["case_id", "at"], kind="stable").reset_index(drop=True)
    return frame, as_of


def build_intervals(events: pd.DataFrame, *, as_of=None, classes: StatusClasses = StatusClasses()) -> pd.DataFrame:
    """One row per stay in a status: case_id, status, start, end, hours, next_status, counted, is_last
    (+ attributes), ordered by case and time."""
    frame, as_of = _prepare(events, as_of)
    return _intervals(frame, as_of, classes)


def _intervals(frame: pd.DataFrame, as_of: pd.Timestamp, classes: StatusClasses) -> pd.DataFrame:
    case = frame["case_id"].to_numpy()
    same_case_next = np.zeros(len(frame), dtype=bool)
    if len(frame) > 1:
        same_case_next[:-1] = case[1:] == case[:-1]
    at = frame["at"]
    end = at.shift(-1).where(same_case_next, as_of)
    next_status = frame["status"].shift(-1).where(same_case_next, "")
    frame["start"] = at
    frame["end"] = end
    frame["next_status"] = next_status.astype(str)
    is_last = ~same_case_next
    # A finished case does not keep accumulating time; an event after as_of does not count either.
    counted = ~(is_last & frame["status"].isin(classes.terminal).to_numpy()) & (at <= as_of).to_numpy()
    hours = ((end - at) / pd.Timedelta(hours=1)).clip(lower=0)
    frame["hours"] = np.where(counted, hours, 0.0)
    frame["counted"] = counted
    frame["is_last"] = is_last
    return frame.drop(columns=["at"])


def time_in_status(intervals: pd.DataFrame) -> pd.DataFrame:
    """Hours per case and status (sum over repeated visits); 0 for statuses a case never visited."""
    table = intervals.pivot_table(index="case_id", columns="status", values="hours", aggfunc="sum", fill_value=0.0)
    table.columns.name = None
    return table


def waiting_working(intervals: pd.DataFrame, classes: StatusClasses = StatusClasses()) -> pd.DataFrame:
    kind = np.select(
        [intervals["status"].isin(classes.waiting), intervals["status"].isin(classes.working)],
        ["waiting_hours", "working_hours"],
        "other_hours",
    )
    table = (
        intervals.assign(kind=kind)
        .pivot_table(index="case_id", columns="kind", values="hours", aggfunc="sum", fill_value=0.0)
        .reindex(columns=["waiting_hours", "working_hours"], fill_value=0.0)
    )
    table.columns.name = None
    active = table["waiting_hours"] + table["working_hours"]
    table["share_waiting"] = (table["waiting_hours"] / active.where(active > 0)).fillna(0.0)
    return table


def reopen_loops(intervals: pd.DataFrame, classes: StatusClasses = StatusClasses()) -> pd.Series:
    """Per case: how often it went from a terminal status (resolved, closed) back to a working/waiting one."""
    loop = intervals["status"].isin(classes.terminal) & intervals["next_status"].isin(classes.reopen_targets)
    counts = loop.groupby(intervals["case_id"]).sum().astype(int)
    counts.name = "reopens"
    return counts


def queue_ageing(intervals: pd.DataFrame, *, as_of, classes: StatusClasses = StatusClasses()) -> pd.DataFrame:
    """Cases still open at ``as_of`` (current status not terminal) by age since their first event, per status."""
    first = intervals.groupby("case_id", sort=False)["start"].min()
    current = intervals.loc[intervals["is_last"] & ~intervals["status"].isin(classes.terminal), ["case_id", "status"]]
    age = np.empty(0)
    if len(current):
        age = ((pd.Timestamp(as_of) - current["case_id"].map(first)) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
    edges = [b[0] for b in AGE_BUCKETS] + [AGE_BUCKETS[-1][1]]
    labels = [b[2] for b in AGE_BUCKETS] + [LAST_BUCKET]
    index = np.searchsorted(np.asarray(edges[1:], dtype=float), age, side="right")
    bucket = pd.Categorical.from_codes(np.minimum(index, len(labels) - 1), categories=labels, ordered=True)
    table = (
        pd.DataFrame({"bucket": bucket, "status": current["status"].to_numpy()})
        .groupby(["bucket", "status"], observed=False)
        .size()
        .rename("cases")
        .reset_index()
    )
    return table


def throughput(
    intervals: pd.DataFrame, *, classes: StatusClasses = StatusClasses(), resolved_status: str = "resolved", tz=None
) -> pd.DataFrame:
    """Per calendar day (in ``tz`` when given): cases arriving (first event) and cases resolved (each entry into
    ``resolved_status``, so a case resolved twice counts twice: it was worked twice)."""

    def day(values: pd.Series) -> pd.Series:
        if tz is not None and values.dt.tz is not None:
            values = values.dt.tz_convert(tz)
        return values.dt.tz_localize(None).dt.normalize() if values.dt.tz is not None else values.dt.normalize()

    first = intervals.groupby("case_id", sort=False)["start"].min()
    arrivals = day(first).value_counts().rename("arrivals")
    resolved = day(intervals.loc[intervals["status"] == resolved_status, "start"]).value_counts().rename("resolved")
    table = pd.concat([arrivals, resolved], axis=1, sort=True).fillna(0).astype(int).sort_index()
    if len(table):
        table = table.reindex(pd.date_range(table.index.min(), table.index.max(), freq="D"), fill_value=0)
    table.index.name = "day"
    return table


def process_map(intervals: pd.DataFrame) -> ProcessMap:
    """Statuses as nodes (visits, cases, total and median hours per visit), transitions as edges (count, median
    hours spent in the source status before the move)."""
    counted = intervals[intervals["counted"]]
    nodes = (
        intervals.groupby("status")
        .agg(visits=("case_id", "size"), cases=("case_id", "nunique"))
        .join(counted.groupby("status")["hours"].agg(total_hours="sum", median_hours="median"))
        .fillna({"total_hours": 0.0})
        .reset_index()
        .sort_values("visits", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    moves = intervals[~intervals["is_last"]]
    edges = (
        moves.groupby(["status", "next_status"])["hours"]
        .agg(count="size", median_hours="median")
        .reset_index()
        .rename(columns={"status": "source", "next_status": "target"})
        .sort_values("count", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return ProcessMap(nodes=nodes, edges=edges)


def bottlenecks(
    intervals: pd.DataFrame,
    *,
    dimensions: tuple[str, ...] = DIMENSIONS,
    pairs: bool = True,
    min_cases: int = 5,
    top: int = 10,
    statuses: tuple[str, ...] | None = None,
    classes: StatusClasses = StatusClasses(),
) -> list[Bottleneck]:
    """Where time accumulates: every status x attribute value (and x pair of values when ``pairs``), ranked by
    excess hours (hours beyond ``cases x the mean of every other case`` in that status). Only the waiting and
    working statuses by default: time in resolved before closing is not a wait the customer feels.

    Medians are per case (the case's total time in the status, visits summed), so a ticket parked three times in
    pending counts as one long wait. Groups smaller than ``min_cases`` are left out. When a pair explains most
    (>= 80 %) of a single value's excess with a higher ratio, the pair is the sharper diagnosis and the single
    value is dropped ("return tickets of South China", not "return tickets")."""
    dims = [d for d in dimensions if d in intervals.columns]
    counted = intervals[intervals["counted"]]
    counted = counted[counted["status"].isin(statuses or (*classes.waiting, *classes.working))]
    if counted.empty or not dims:
        return []
    all_hours = float(counted["hours"].sum())
    if all_hours <= 0:
        return []
    # The case's attributes at its last counted visit of the status (what it was when it waited).
    frame = counted[["case_id", "status", "hours", *dims]].copy()
    for dim in dims:
        frame[dim] = frame[dim].astype("string").fillna("-")
    per_case = frame.groupby(["case_id", "status"], sort=False).agg(
        hours=("hours", "sum"), **{d: (d, "last") for d in dims}
    )
    per_case = per_case.reset_index()

    combos: list[tuple[str, ...]] = [(d,) for d in dims]
    if pairs:
        combos += list(itertools.combinations(dims, 2))
    found: list[Bottleneck] = []
    for status, sub in per_case.groupby("status", sort=True):
        hours = sub["hours"].to_numpy(dtype=float)
        status_median = float(np.median(hours))
        for combo in combos:
            first, *others = combo
            values = sub[first].str.cat([sub[c] for c in others], sep=" / ") if others else sub[first]
            codes, labels = pd.factorize(values, sort=True)
            counts = np.bincount(codes, minlength=len(labels))
            for code in np.flatnonzero((counts >= min_cases) & (len(hours) - counts >= min_cases)):
                mine = codes == code
                group, rest = hours[mine], hours[~mine]
                rest_median = float(np.median(rest))
                median = float(np.median(group))
                total = float(group.sum())
                found.append(
                    Bottleneck(
                        status=str(status),
                        dimension="+".join(combo),
                        value=str(labels[code]),
                        cases=int(counts[code]),
                        total_hours=total,
                        share=total / all_hours,
                        median_hours=median,
                        rest_median_hours=rest_median,
                        status_median_hours=status_median,
                        ratio=median / rest_median if rest_median > 0 else float("inf"),
                        excess_hours=total - counts[code] * float(rest.mean()),
                    )
                )
    found = [b for b in found if b.excess_hours > 0 and b.ratio > 1]
    found.sort(key=lambda b: (-b.excess_hours, b.dimension, b.value))
    pairs_found = [b for b in found if "+" in b.dimension]
    kept: list[Bottleneck] = []
    for item in found:
        if "+" not in item.dimension:
            parts = {item.value}
            sharper = any(
                p.status == item.status
                and parts <= set(p.value.split(" / "))
                and p.excess_hours >= 0.8 * item.excess_hours
                and p.ratio > item.ratio
                for p in pairs_found
            )
            if sharper:
                continue
        kept.append(item)
    return kept[:top]


def analyse(
    events: pd.DataFrame,
    *,
    as_of: datetime | pd.Timestamp | None = None,
    classes: StatusClasses = StatusClasses(),
    dimensions: tuple[str, ...] = DIMENSIONS,
    tz=None,
    top: int = 10,
    min_cases: int = 5,
) -> ProcessAnalysis:
    """The whole analysis of an event log (see the module docstring for the model)."""
    frame, as_of_ts = _prepare(events, as_of)
    intervals = _intervals(frame, as_of_ts, classes)
    return ProcessAnalysis(
        as_of=as_of_ts,
        intervals=intervals,
        time_in_status=time_in_status(intervals),
        waiting_working=waiting_working(intervals, classes),
        reopens=reopen_loops(intervals, classes),
        queue_ageing=queue_ageing(intervals, as_of=as_of_ts, classes=classes),
        throughput=throughput(intervals, classes=classes, tz=tz),
        process_map=process_map(intervals),
        bottlenecks=bottlenecks(intervals, dimensions=dimensions, top=top, min_cases=min_cases, classes=classes),
    )


def generate_log(
    cases: int, *, seed: int = 0, start: str = "2026-01-01", days: int = 180, planted: dict | None = None
) -> pd.DataFrame:
    """A synthetic event log for tests and the benchmark: new -> open -> (pending -> open)* -> resolved -> closed,
    sometimes reopened, ~5 events per case. ``planted`` = {"status": "pending", "category": "return", "factor": 10}
    multiplies that status' durations for the cases matching every attribute given (category/team/priority)."""
    rng = np.random.default_rng(seed)
    categories = np.array(["complaint", "question", "after_sales", "return", "suggestion"])
    teams = np.array(["North China", "East China", "South China", "West China"])
    priorities = np.array(["low", "normal", "high", "urgent"])
    case_cat = categories[rng.integers(0, len(categories), cases)]
    case_team = teams[rng.integers(0, len(teams), cases)]
    case_prio = priorities[rng.choice(len(priorities), cases, p=[0.2, 0.5, 0.2, 0.1])]
    pendings = rng.binomial(2, 0.3, cases)  # pending loops per case
    reopened = rng.random(cases) < 0.08
    # Path per case: new, open, (pending, open) * k, resolved, [open, resolved], closed
    lengths = 2 + 2 * pendings + 1 + 2 * reopened + 1
    case_index = np.repeat(np.arange(cases), lengths)
    step = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    k = pendings[case_index]
    r = reopened[case_index]
    status = np.full(len(step), "open", dtype=object)
    status[step == 0] = "new"
    in_loop = (step >= 2) & (step < 2 + 2 * k)
    status[in_loop & ((step - 2) % 2 == 0)] = "pending"
    after = step - 2 * k
    status[after == 2] = "resolved"
    status[r & (after == 3)] = "open"
    status[r & (after == 4)] = "resolved"
    status[after == lengths[case_index] - 2 * k - 1] = "closed"
    mean_hours = {"new": 2.0, "open": 6.0, "pending": 8.0, "resolved": 30.0, "closed": 0.0}
    durations = np.array([mean_hours[s] for s in status]) * rng.exponential(1.0, len(status))
    if planted:
        attr = {"category": case_cat, "team": case_team, "priority": case_prio}
        hit = status == planted["status"]
        for key in ("category", "team", "priority"):
            if key in planted:
                hit &= attr[key][case_index] == planted[key]
        durations[hit] *= planted.get("factor", 10)
    # Each event's time = case start + durations of the previous statuses.
    starts = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rng.uniform(0, days * 24, cases), unit="h")
    offsets = np.zeros(len(status))
    offsets[1:] = durations[:-1]
    offsets[step == 0] = 0.0
    cumulative = np.cumsum(offsets)
    base = np.repeat(cumulative[np.cumsum(lengths) - lengths], lengths)
    at = (starts[case_index] + pd.to_timedelta(cumulative - base, unit="h")).floor("us")
    return pd.DataFrame(
        {
            "case_id": case_index + 1,
            "status": status.astype(str),
            "at": at,
            "category": case_cat[case_index],
            "team": case_team[case_index],
            "priority": case_prio[case_index],
        }
    )
