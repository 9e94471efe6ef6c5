"""RFM scores, named RFM segments, and value tiers (ABC by revenue share; high / medium / low).

Scores (1 = worst, 5 = best) are quintiles over the customers scored together:
score = floor(5 * (rank - 1) / n) + 1, with rank the 1-based position from worst to best and ties sharing the
lowest rank of their group (so equal values always get equal scores; on skewed data such as "one purchase"
for most customers a score may be skipped). Recency is better when smaller.

From a summary (``guanxi.analytics.engine``): R is the time since the last purchase, ``T - recency``; F the
number of purchase periods, ``frequency + 1``; M the ``revenue`` up to ``as_of``.

Segments come from (R, FM) with FM = round-half-up((F + M) / 2), on this grid (rows R, columns FM):

    R \\ FM   1                2                   3                   4                5
    5        new              potential_loyalist  potential_loyalist  champions        champions
    4        promising        potential_loyalist  potential_loyalist  loyal            loyal
    3        about_to_sleep   about_to_sleep      need_attention      loyal            loyal
    2        hibernating      hibernating         at_risk             at_risk          cant_lose_them
    1        lost             lost                at_risk             at_risk          cant_lose_them

It follows the widely used R-by-FM segment table (e.g. Putler's "RFM analysis" guide), made exhaustive and
non-overlapping: every score pair has exactly one segment.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.errors import AnalyticsInputError

SEGMENT_LABELS: Mapping[str, str] = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalist": "Potential loyalist",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need attention",
    "about_to_sleep": "About to sleep",
    "at_risk": "At risk",
    "cant_lose_them": "Can't lose them",
    "hibernating": "Hibernating",
    "lost": "Lost",
}
SEGMENT_LABELS_ZH_HANS: Mapping[str, str] = {
    "champions": "冠军客户",
    "loyal": "忠诚客户",
    "potential_loyalist": "潜力客户",
    "new": "新客户",
    "promising": "有希望的客户",
    "need_attention": "需要关注",
    "about_to_sleep": "即将沉睡",
    "at_risk": "有流失风险",
    "cant_lose_them": "不能失去",
    "hibernating": "休眠客户",
    "lost": "已流失",
}
_GRID_ROWS = {  # R score -> segments for FM = 1..5 (the table in the module docstring)
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    1: ("lost", "lost", "at_risk", "at_risk", "cant_lose_them"),
}
SEGMENT_GRID: Mapping[tuple[int, int], str] = {
    (r, fm): segment for r, row in _GRID_ROWS.items() for fm, segment in enumerate(row, start=1)
}


_SEGMENT_KEYS = list(SEGMENT_LABELS)
_SEGMENT_CODE_GRID = np.array(
    [[_SEGMENT_KEYS.index(SEGMENT_GRID[(r, fm)]) for fm in range(1, 6)] for r in range(1, 6)], dtype=np.int8
)
ABC_TIERS = ("A", "B", "C")
VALUE_TIERS = ("high", "medium", "low")


# Every score and tier below compares each value with a few order statistics of one np.sort, instead of
# ranking the customers: numpy's sort is vectorised and about ten times faster than an argsort, which on ten
# million customers took over a second per score.


def _positions_below(share: float, n: int) -> int:
    """The number of 0-based positions j < n with j / n < share (computed as the ranking formulas are)."""
    k = min(max(int(np.ceil(share * n)), 0), n)
    while k > 0 and (k - 1) / n >= share:
        k -= 1
    while k < n and k / n < share:
        k += 1
    return k


def _at_least_the_kth_largest(
    values: NDArray[np.float64], descending: NDArray[np.float64], k: int
) -> NDArray[np.bool_]:
    """Whether fewer than ``k`` values are greater than each value (its min-rank among the largest is <= k)."""
    if k <= 0:
        return np.zeros(len(values), dtype=bool)
    return values >= descending[k - 1]


def quintile_scores(values: ArrayLike, *, higher_is_better: bool = True) -> NDArray[np.int64]:
    """Scores 1-5 by quintile of rank (see the module docstring for ties). NaN is rejected."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if np.isnan(array).any():
        raise AnalyticsInputError("cannot score missing values")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    oriented = array if higher_is_better else -array
    ascending = np.sort(oriented)
    n = array.size
    scores = np.ones(n, dtype=np.int64)
    for step in range(1, 5):
        # floor(5 j / n) >= step, j = the number of smaller values, holds from j = ceil(step n / 5) on.
        smaller_needed = -(-step * n // 5)
        if smaller_needed < n:
            scores += oriented > ascending[smaller_needed - 1]
    return scores


def _segment_codes(r_score: ArrayLike, fm_score: ArrayLike) -> NDArray[np.int8]:
    r, fm = np.broadcast_arrays(np.asarray(r_score), np.asarray(fm_score))
    if np.any((r < 1) | (r > 5) | (fm < 1) | (fm > 5)):
        raise AnalyticsInputError("RFM scores must be between 1 and 5")
    return _SEGMENT_CODE_GRID[r.astype(int) - 1, fm.astype(int) - 1]


def segment_for(r_score: ArrayLike, fm_score: ArrayLike) -> NDArray[np.object_]:
    """The segment key of each (R, FM) score pair, per the grid in the module docstring."""
    return np.asarray(np.array(_SEGMENT_KEYS, dtype=object)[_segment_codes(r_score, fm_score)], dtype=object)


def rfm_scores(recency: ArrayLike, frequency: ArrayLike, monetary: ArrayLike) -> pd.DataFrame:
    """R, F, M and FM scores and the segment key, one row per customer (in input order).

    ``recency`` is the time since the last purchase (smaller is better); ``frequency`` and ``monetary`` are
    better when larger (any consistent definitions; see :func:`rfm_from_summary`). ``segment`` is a
    categorical whose categories are the keys of :data:`SEGMENT_LABELS`, in that order.
    """
    r = quintile_scores(recency, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    if not (len(r) == len(f) == len(m)):
        raise AnalyticsInputError("recency, frequency and monetary must have the same length")
    fm = (f + m + 1) // 2  # round half up
    segment = pd.Categorical.from_codes(_segment_codes(r, fm), categories=_SEGMENT_KEYS)
    return pd.DataFrame({"r_score": r, "f_score": f, "m_score": m, "fm_score": fm, "segment": segment})


def rfm_from_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """RFM scores of an engine summary frame, indexed like it, with ``customer_id`` kept when present.

    R = ``T - recency`` (time since the last purchase, in the summary's unit), F = ``frequency + 1``
    (purchase periods), M = ``revenue``.
    """
    missing = {"frequency", "recency", "T", "revenue"} - set(summary.columns)
    if missing:
        raise AnalyticsInputError(f"summary is missing column(s) {sorted(missing)}")
    scores = rfm_scores(summary["T"] - summary["recency"], summary["frequency"] + 1, summary["revenue"])
    scores.index = summary.index
    if "customer_id" in summary.columns:
        scores.insert(0, "customer_id", summary["customer_id"])
    return scores


def abc_tiers(revenue: ArrayLike, *, a_share: float = 0.80, b_share: float = 0.15) -> NDArray[np.str_]:
    """ABC tier per customer by cumulative revenue share (Pareto analysis).

    Customers sorted by revenue, largest first: "A" while the revenue of the customers ranked above is below
    ``a_share`` of the total (so the A customers together make at least ``a_share``, and dropping the last
    of them would fall below it); "B" while it is below ``a_share + b_share``; "C" for the rest and for
    customers without revenue. Ties keep input order. Negative revenue is rejected.
    """
    return np.array(ABC_TIERS)[abc_tier_codes(revenue, a_share=a_share, b_share=b_share)]


def abc_tier_codes(revenue: ArrayLike, *, a_share: float = 0.80, b_share: float = 0.15) -> NDArray[np.int8]:
    """:func:`abc_tiers` as codes into :data:`ABC_TIERS` (0 = A, 1 = B, 2 = C).

    Every customer takes the tier of the first position of its value in the descending order, except in a
    group of equal values that straddles a threshold, whose members take consecutive positions in input order.
    """
    values = np.asarray(revenue, dtype=np.float64).reshape(-1)
    if np.any(~np.isfinite(values)) or np.any(values < 0):
        raise AnalyticsInputError("revenue must be finite and >= 0 for ABC tiers")
    if not (0 < a_share < 1 and b_share >= 0 and a_share + b_share <= 1):
        raise AnalyticsInputError("ABC shares must satisfy 0 < a_share < 1 and a_share + b_share <= 1")
    total = values.sum()
    if total <= 0:
        return np.full(values.shape, 2, dtype=np.int8)
    descending = np.sort(values)[::-1]
    # Non-decreasing by construction; the running maximum keeps it so through rounding.
    share_before = np.maximum.accumulate((np.cumsum(descending) - descending) / total)
    eps = 1e-12  # a share landing exactly on a threshold (up to rounding) belongs to the next tier
    ranked = np.where(share_before < a_share - eps, 0, np.where(share_before < a_share + b_share - eps, 1, 2))
    ranked = np.where(descending <= 0, 2, ranked).astype(np.int8)  # by position: 0s, then 1s, then 2s
    n = len(values)
    end_a, end_b = int(np.count_nonzero(ranked == 0)), int(np.count_nonzero(ranked <= 1))
    codes = np.full(n, 2, dtype=np.int8)
    codes[_at_least_the_kth_largest(values, descending, end_b)] = 1
    codes[_at_least_the_kth_largest(values, descending, end_a)] = 0
    codes[values <= 0] = 2
    # A group of equal values straddling a boundary: its members take consecutive positions in input order.
    for k in (end_a, end_b):
        if 0 < k < n and descending[k - 1] == descending[k] and descending[k] > 0:
            members = np.flatnonzero(values == descending[k])
            first = int(np.count_nonzero(values > descending[k]))
            codes[members] = ranked[first : first + len(members)]
    return codes


def value_tiers(values: ArrayLike, *, high_share: float = 0.20, medium_share: float = 0.30) -> NDArray[np.str_]:
    """Tiers "high" / "medium" / "low" by the rank of a value (CLV, revenue ...).

    The top ``high_share`` of customers are high, the next ``medium_share`` medium, the rest low; ties get
    the better tier.
    """
    return np.array(VALUE_TIERS)[value_tier_codes(values, high_share=high_share, medium_share=medium_share)]


def value_tier_codes(values: ArrayLike, *, high_share: float = 0.20, medium_share: float = 0.30) -> NDArray[np.int8]:
    """:func:`value_tiers` as codes into :data:`VALUE_TIERS` (0 = high, 1 = medium, 2 = low)."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if np.any(np.isnan(array)):
        raise AnalyticsInputError("cannot tier missing values")
    if not (high_share > 0 and medium_share >= 0 and high_share + medium_share <= 1):
        raise AnalyticsInputError("tier shares must be positive and sum to at most 1")
    if array.size == 0:
        return np.zeros(0, dtype=np.int8)
    descending = np.sort(array)[::-1]
    n = array.size
    codes = np.full(n, 2, dtype=np.int8)
    codes[_at_least_the_kth_largest(array, descending, _positions_below(high_share + medium_share, n))] = 1
    codes[_at_least_the_kth_largest(array, descending, _positions_below(high_share, n))] = 0
    return codes
