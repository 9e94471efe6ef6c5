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


def quintile_scores(values: ArrayLike, *, higher_is_better: bool = True) -> NDArray[np.int64]:
    """Scores 1-5 by quintile of rank (see the module docstring for ties). NaN is rejected."""
    series = pd.Series(np.asarray(values, dtype=np.float64))
    if series.isna().any():
        raise AnalyticsInputError("cannot score missing values")
    if series.empty:
        return np.zeros(0, dtype=np.int64)
    ranks = (series if higher_is_better else -series).rank(method="min").to_numpy()
    return (np.floor(5 * (ranks - 1) / len(series)) + 1).astype(np.int64)


def segment_for(r_score: ArrayLike, fm_score: ArrayLike) -> NDArray[np.object_]:
    """The segment key of each (R, FM) score pair, per the grid in the module docstring."""
    r, fm = np.broadcast_arrays(np.asarray(r_score), np.asarray(fm_score))
    if np.any((r < 1) | (r > 5) | (fm < 1) | (fm > 5)):
        raise AnalyticsInputError("RFM scores must be between 1 and 5")
    lookup = np.array([[SEGMENT_GRID[(ri, fi)] for fi in range(1, 6)] for ri in range(1, 6)], dtype=object)
    return np.asarray(lookup[r.astype(int) - 1, fm.astype(int) - 1], dtype=object)


def rfm_scores(recency: ArrayLike, frequency: ArrayLike, monetary: ArrayLike) -> pd.DataFrame:
    """R, F, M and FM scores and the segment key, one row per customer (in input order).

    ``recency`` is the time since the last purchase (smaller is better); ``frequency`` and ``monetary`` are
    better when larger (any consistent definitions; see :func:`rfm_from_summary`).
    """
    r = quintile_scores(recency, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    if not (len(r) == len(f) == len(m)):
        raise AnalyticsInputError("recency, frequency and monetary must have the same length")
    fm = (f + m + 1) // 2  # round half up
    return pd.DataFrame({"r_score": r, "f_score": f, "m_score": m, "fm_score": fm, "segment": segment_for(r, fm)})


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
    values = np.asarray(revenue, dtype=np.float64)
    if np.any(~np.isfinite(values)) or np.any(values < 0):
        raise AnalyticsInputError("revenue must be finite and >= 0 for ABC tiers")
    if not (0 < a_share < 1 and b_share >= 0 and a_share + b_share <= 1):
        raise AnalyticsInputError("ABC shares must satisfy 0 < a_share < 1 and a_share + b_share <= 1")
    tiers = np.full(values.shape, "C", dtype="<U1")
    total = values.sum()
    if total <= 0:
        return tiers
    order = np.argsort(-values, kind="stable")
    share_before = (np.cumsum(values[order]) - values[order]) / total
    eps = 1e-12  # a share landing exactly on a threshold (up to rounding) belongs to the next tier
    ranked = np.where(share_before < a_share - eps, "A", np.where(share_before < a_share + b_share - eps, "B", "C"))
    ranked[values[order] <= 0] = "C"
    tiers[order] = ranked
    return tiers


def value_tiers(values: ArrayLike, *, high_share: float = 0.20, medium_share: float = 0.30) -> NDArray[np.str_]:
    """Tiers "high" / "medium" / "low" by the rank of a value (CLV, revenue ...).

    The top ``high_share`` of customers are high, the next ``medium_share`` medium, the rest low; ties get
    the better tier.
    """
    array = np.asarray(values, dtype=np.float64)
    if np.any(np.isnan(array)):
        raise AnalyticsInputError("cannot tier missing values")
    if not (high_share > 0 and medium_share >= 0 and high_share + medium_share <= 1):
        raise AnalyticsInputError("tier shares must be positive and sum to at most 1")
    if array.size == 0:
        return np.zeros(0, dtype="<U6")
    position = (pd.Series(-array).rank(method="min").to_numpy() - 1) / array.size
    return np.where(position < high_share, "high", np.where(position < high_share + medium_share, "medium", "low"))
