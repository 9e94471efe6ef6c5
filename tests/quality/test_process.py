"""The framework-free process analysis: a hand-computed example and a planted bottleneck (no database)."""

import pandas as pd
import pytest

from guanxi.quality import process
from guanxi.quality.process import ProcessInputError, StatusClasses

AS_OF = pd.Timestamp("2026-03-02 00:00", tz="UTC")


def _at(hhmm: str, day: int = 1) -> pd.Timestamp:
    return pd.Timestamp(f"2026-03-0{day} {hhmm}", tz="UTC")


def hand_log() -> pd.DataFrame:
    """Three tickets on 1 March 2026 (UTC), shuffled.

    A (complaint): new 09:00, open 10:00, pending 12:00, open 16:00, resolved 18:00, open 20:00 (reopened),
       resolved 22:00 (done).
    B (question):  new 08:00, open 11:00, resolved 15:00, closed 23:00 (done).
    C (question):  new 20:00, open 21:00, still open at as_of (2 March 00:00).
    """
    rows = [
        ("A", "new", "09:00"), ("A", "open", "10:00"), ("A", "pending", "12:00"), ("A", "open", "16:00"),
        ("A", "resolved", "18:00"), ("A", "open", "20:00"), ("A", "resolved", "22:00"),
        ("B", "new", "08:00"), ("B", "open", "11:00"), ("B", "resolved", "15:00"), ("B", "closed", "23:00"),
        ("C", "new", "20:00"), ("C", "open", "21:00"),
    ]  # fmt: skip
    frame = pd.DataFrame(
        [
            {"case_id": c, "status": s, "at": _at(t), "category": "complaint" if c == "A" else "question"}
            for c, s, t in rows
        ]
    )
    return frame.sample(frac=1, random_state=3).reset_index(drop=True)


def test_time_in_status_matches_hand_computation():
    result = process.analyse(hand_log(), as_of=AS_OF)
    table = result.time_in_status
    # A: new 09-10 = 1; open 10-12, 16-18, 20-22 = 6; pending 12-16 = 4; resolved 18-20 = 2 (the final resolved
    # stay is not counted: the case is done). B: new 3, open 4, resolved 15-23 = 8, closed not counted.
    # C: new 1, open 21:00 to as_of 00:00 = 3.
    assert table.loc["A", ["new", "open", "pending", "resolved", "closed"]].tolist() == [1, 6, 4, 2, 0]
    assert table.loc["B", ["new", "open", "pending", "resolved", "closed"]].tolist() == [3, 4, 0, 8, 0]
    assert table.loc["C", ["new", "open", "pending", "resolved"]].tolist() == [1, 3, 0, 0]
    ww = result.waiting_working
    assert ww.loc["A", "waiting_hours"] == 5 and ww.loc["A", "working_hours"] == 6
    assert ww.loc["B", "waiting_hours"] == 3 and ww.loc["B", "working_hours"] == 4
    assert ww.loc["C", "waiting_hours"] == 1 and ww.loc["C", "working_hours"] == 3
    assert ww.loc["A", "share_waiting"] == pytest.approx(5 / 11)


def test_process_map_counts_and_medians_match_hand_computation():
    pm = process.analyse(hand_log(), as_of=AS_OF).process_map
    nodes = pm.nodes.set_index("status")
    # open stays: A 2, 2, 2; B 4; C 3 -> median 2, total 13. resolved counted stays: A 2, B 8 -> median 5.
    assert nodes.loc["open", "visits"] == 5 and nodes.loc["open", "cases"] == 3
    assert nodes.loc["open", "median_hours"] == 2 and nodes.loc["open", "total_hours"] == 13
    assert nodes.loc["new", "median_hours"] == 1 and nodes.loc["new", "total_hours"] == 5
    assert nodes.loc["resolved", "visits"] == 3 and nodes.loc["resolved", "median_hours"] == 5
    assert nodes.loc["pending", "median_hours"] == 4
    edges = {(e.source, e.target): (e.count, e.median_hours) for e in pm.edges.itertuples()}
    assert edges == {
        ("new", "open"): (3, 1.0),  # A 1 h, B 3 h, C 1 h
        ("open", "pending"): (1, 2.0),
        ("pending", "open"): (1, 4.0),
        ("open", "resolved"): (3, 2.0),  # A 2 h twice, B 4 h
        ("resolved", "open"): (1, 2.0),
        ("resolved", "closed"): (1, 8.0),
    }


def test_reopens_ageing_and_throughput_match_hand_computation():
    result = process.analyse(hand_log(), as_of=AS_OF)
    assert result.reopens.to_dict() == {"A": 1, "B": 0, "C": 0}
    ageing = result.queue_ageing[result.queue_ageing["cases"] > 0]
    # Only C is still open at as_of, 4 hours after it arrived.
    assert ageing[["bucket", "status", "cases"]].values.tolist() == [["< 1 d", "open", 1]]
    day = pd.Timestamp("2026-03-01")
    assert result.throughput.loc[day].tolist() == [3, 3]  # 3 arrivals; resolved: A twice, B once
    # In Beijing time C arrived at 04:00 on 2 March.
    local = process.throughput(result.intervals, tz="Asia/Shanghai")
    assert local["arrivals"].tolist() == [2, 1]


def test_events_after_as_of_are_ignored():
    early = process.analyse(hand_log(), as_of=_at("13:00"))
    # At 13:00 A has been pending for 1 h; B is open since 11:00 (its 15:00 resolution is still in the future);
    # C has not arrived yet.
    table = early.time_in_status.reindex(columns=["new", "open", "pending", "resolved"], fill_value=0)
    assert table.loc["A"].tolist() == [1, 2, 1, 0]
    assert table.loc["B"].tolist() == [3, 2, 0, 0]
    assert "C" not in early.time_in_status.index
    assert early.throughput["arrivals"].sum() == 2


def test_current_status_runs_to_as_of_and_custom_classes():
    later = process.analyse(hand_log(), as_of=AS_OF + pd.Timedelta(hours=10))
    assert later.time_in_status.loc["C", "open"] == 13
    # Counting only pending as waiting and new as working.
    classes = StatusClasses(waiting=("pending",), working=("new", "open"))
    ww = process.analyse(hand_log(), as_of=AS_OF, classes=classes).waiting_working
    assert ww.loc["A", "waiting_hours"] == 4 and ww.loc["A", "working_hours"] == 7


def test_planted_bottleneck_is_found_first():
    log = process.generate_log(3000, seed=7, planted={"status": "pending", "category": "return", "factor": 10})
    top = process.analyse(log).bottlenecks
    first = top[0]
    assert (first.status, first.dimension, first.value) == ("pending", "category", "return")
    assert 6 < first.ratio < 15
    assert first.median_hours > 5 * first.rest_median_hours
    assert "return" in first.explanation and "pending" in first.explanation


def test_planted_pair_bottleneck_is_named_as_the_pair():
    planted = {"status": "pending", "category": "return", "team": "South China", "factor": 10}
    top = process.analyse(process.generate_log(3000, seed=11, planted=planted)).bottlenecks
    assert (top[0].status, top[0].dimension, top[0].value) == ("pending", "category+team", "return / South China")
    # The single values are not reported ahead of the pair that explains them.
    assert all(b.value not in ("return", "South China") for b in top[:3])


def test_without_a_planted_bottleneck_nothing_stands_out():
    top = process.analyse(process.generate_log(3000, seed=5)).bottlenecks
    assert all(b.ratio < 2 for b in top)


def test_bad_input_is_rejected():
    with pytest.raises(ProcessInputError, match="status"):
        process.analyse(pd.DataFrame({"case_id": [1], "at": [AS_OF]}))
    with pytest.raises(ProcessInputError):
        process.analyse(pd.DataFrame({"case_id": [1], "status": ["new"], "at": [None]}))
    with pytest.raises(ProcessInputError, match="naive"):
        naive = pd.DataFrame({"case_id": [1], "status": ["new"], "at": [pd.Timestamp("2026-01-01")]})
        process.analyse(naive, as_of=AS_OF)


def test_empty_log():
    empty = pd.DataFrame({"case_id": [], "status": [], "at": pd.to_datetime([], utc=True)})
    result = process.analyse(empty, as_of=AS_OF)
    assert result.cases == 0 and result.bottlenecks == [] and result.process_map.edges.empty
