"""RFM scores, segments and value tiers: hand-computed cases and invariants."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.analytics import AnalyticsInputError, rfm


def test_every_score_pair_has_one_segment_and_every_segment_is_reachable():
    assert len(rfm.SEGMENT_GRID) == 25
    assert set(rfm.SEGMENT_GRID.values()) == set(rfm.SEGMENT_LABELS) == set(rfm.SEGMENT_LABELS_ZH_HANS)
    assert len(rfm.SEGMENT_LABELS) == 11
    assert all(key == key.lower() and " " not in key for key in rfm.SEGMENT_LABELS)


@pytest.mark.parametrize(
    ("r", "fm", "segment"),
    [
        (5, 5, "champions"),
        (5, 1, "new"),
        (4, 1, "promising"),
        (1, 1, "lost"),
        (2, 1, "hibernating"),
        (1, 5, "cant_lose_them"),
        (2, 3, "at_risk"),
        (3, 3, "need_attention"),
        (3, 1, "about_to_sleep"),
        (4, 4, "loyal"),
        (4, 2, "potential_loyalist"),
    ],
)
def test_segment_examples(r, fm, segment):
    assert rfm.segment_for(r, fm).item() == segment


def test_labels_in_english_and_simplified_chinese():
    assert rfm.SEGMENT_LABELS["cant_lose_them"] == "Can't lose them"
    assert rfm.SEGMENT_LABELS_ZH_HANS["champions"] == "冠军客户"
    assert rfm.SEGMENT_LABELS_ZH_HANS["lost"] == "已流失"


def test_quintiles_split_distinct_values_evenly_and_recency_is_reversed():
    values = np.arange(100)
    scores = rfm.quintile_scores(values)
    assert np.bincount(scores)[1:].tolist() == [20, 20, 20, 20, 20]
    assert scores[0] == 1 and scores[-1] == 5
    assert rfm.quintile_scores(values, higher_is_better=False)[0] == 5


def test_tied_values_share_a_score():
    scores = rfm.quintile_scores([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    assert len(set(scores[:6])) == 1 and scores[0] == 1
    assert scores[-1] == 5


def test_out_of_range_scores_and_missing_values_are_errors():
    with pytest.raises(AnalyticsInputError):
        rfm.segment_for(6, 1)
    with pytest.raises(AnalyticsInputError):
        rfm.quintile_scores([1.0, np.nan])


def test_rfm_from_summary_uses_time_since_last_purchase():
    summary = pd.DataFrame(
        {
            "customer_id": list("abcdefghij"),
            "frequency": [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
            "recency": [99.0, 90, 80, 70, 60, 50, 40, 30, 20, 0],
            "T": [100.0] * 10,
            "revenue": [1000.0, 900, 800, 700, 600, 500, 400, 300, 200, 100],
        }
    )
    scores = rfm.rfm_from_summary(summary).set_index("customer_id")
    assert scores.loc["a", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]
    assert scores.loc["a", "segment"] == "champions"
    assert scores.loc["j", "segment"] == "lost"  # last bought 100 days ago, once, little


def test_abc_tiers_hand_computed():
    # Revenue shares 50, 30, 10, 5, 3, 2 %: shares before each are 0, 50, 80, 90, 95, 98 %.
    tiers = rfm.abc_tiers([10.0, 5.0, 50.0, 3.0, 30.0, 2.0])
    assert tiers.tolist() == ["B", "B", "A", "C", "A", "C"]
    assert rfm.abc_tiers([10.0, 0.0], a_share=0.5, b_share=0.5).tolist() == ["A", "C"]
    assert rfm.abc_tiers([0.0, 0.0]).tolist() == ["C", "C"]
    with pytest.raises(AnalyticsInputError):
        rfm.abc_tiers([1.0, -1.0])


@settings(max_examples=100, deadline=None)
# Revenue is money: subnormal floats (5e-324) lose the precision the 80 % boundary needs, and no till holds them.
@given(st.lists(st.floats(min_value=0.0, max_value=1e6, allow_subnormal=False), min_size=1, max_size=200))
def test_a_tier_is_the_smallest_top_group_reaching_80_percent(revenue):
    values = np.array(revenue)
    tiers = rfm.abc_tiers(values)
    total = values.sum()
    if total == 0:
        assert set(tiers) == {"C"}
        return
    a_values = np.sort(values[tiers == "A"])
    assert a_values.sum() >= 0.8 * total - 1e-9 * total
    assert a_values[1:].sum() < 0.8 * total  # without its smallest member the A group falls short
    assert values[tiers == "A"].min() >= values[tiers != "A"].max(initial=0)


def test_value_tiers_by_share_of_customers():
    tiers = rfm.value_tiers(np.arange(10.0))
    assert tiers.tolist() == ["low"] * 5 + ["medium"] * 3 + ["high"] * 2
    assert rfm.value_tiers([5.0, 5.0, 5.0]).tolist() == ["high"] * 3  # ties get the better tier


def _abc_by_stable_sort(values: np.ndarray, a_share: float, b_share: float) -> list[str]:
    """The definition read literally, in exact arithmetic: sort by revenue, largest first, ties in input order,
    and walk down; a share landing exactly on a threshold belongs to the next tier."""
    a, ab = Fraction(str(a_share)), Fraction(str(a_share)) + Fraction(str(b_share))
    order = np.argsort(-values, kind="stable")
    total, before, tiers = Fraction(values.sum()), Fraction(0), np.full(len(values), "C")
    for i in order:
        if values[i] > 0 and total > 0:
            tiers[i] = "A" if before / total < a else "B" if before / total < ab else "C"
        before += Fraction(values[i])
    return tiers.tolist()


@settings(max_examples=200, deadline=None)
# Few distinct values, so that groups of equal revenue straddle the A/B and B/C thresholds.
@given(st.lists(st.sampled_from([0.0, 1.0, 2.0, 5.0, 10.0]), min_size=1, max_size=60), st.sampled_from([0.5, 0.8]))
def test_abc_ties_on_a_threshold_are_split_in_input_order(revenue, a_share):
    values = np.array(revenue)
    assert rfm.abc_tiers(values, a_share=a_share, b_share=0.15).tolist() == _abc_by_stable_sort(values, a_share, 0.15)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-5, max_value=5).map(float), min_size=1, max_size=80))
def test_quintiles_and_value_tiers_rank_ties_like_pandas_min_rank(values):
    series = pd.Series(values)
    ranks = series.rank(method="min").to_numpy()
    assert rfm.quintile_scores(values).tolist() == (np.floor(5 * (ranks - 1) / len(values)) + 1).astype(int).tolist()
    reversed_ranks = (-series).rank(method="min").to_numpy()
    expected_reversed = (np.floor(5 * (reversed_ranks - 1) / len(values)) + 1).astype(int).tolist()
    assert rfm.quintile_scores(values, higher_is_better=False).tolist() == expected_reversed
    position = ((-series).rank(method="min").to_numpy() - 1) / len(values)
    expected = np.where(position < 0.2, "high", np.where(position < 0.5, "medium", "low"))
    assert rfm.value_tiers(values).tolist() == expected.tolist()
    expected = np.where(position < 0.35, "high", np.where(position < 0.35 + 0.65, "medium", "low"))
    assert rfm.value_tiers(values, high_share=0.35, medium_share=0.65).tolist() == expected.tolist()
