"""What scoring computes beyond the per-customer scores: product recommendations, needs-based segments and the
monthly forecast, from frames read off the operational database. No writes here (``services`` writes).

Each function calls the framework-free analytics (``guanxi.analytics.recommend`` / ``needs`` / ``forecast``)
and only reshapes their output for storage, so what the CRM stores is what those functions return.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from guanxi.analytics import forecast, needs, recommend
from guanxi.analytics.errors import AnalyticsInputError
from guanxi.analytics.pipeline import PipelineResult

GROUPINGS = ("segment", "abc_tier", "industry", "region")
_SUMMARY = ["customer_id", "frequency", "recency", "T", "monetary_value"]


@dataclass(frozen=True)
class Recommendations:
    """``items``: customer_id, rank, product_id, score, source, because_of (the customer's bought product that
    contributes most to the score of a "similar" item; None for popular fills). ``hit_rate``: the time-split
    evaluation as a JSON-ready dict, or {} when the history does not allow one."""

    items: pd.DataFrame
    hit_rate: dict


def recommendations(lines: pd.DataFrame, *, as_of: date, k: int, split_days: int) -> Recommendations:
    """Top-``k`` item-to-item recommendations for every customer with product lines, and the hit rate @k of the
    same method trained on the lines before ``as_of - split_days`` and tested on each customer's next new product.
    """
    frame = lines[lines["product_id"].notna()].copy()
    if frame.empty:
        return Recommendations(pd.DataFrame(), {})
    frame["product_id"] = frame["product_id"].astype("int64")
    model = recommend.item_similarity(frame)
    items = recommend.recommend(model, frame, k=k)
    items["because_of"] = _because(model, frame, items)
    hit_rate: dict = {}
    split = as_of - timedelta(days=split_days)
    try:
        result = recommend.evaluate_hit_rate(frame, split, k, time_col="ordered_at")
    except AnalyticsInputError:
        pass
    else:
        hit_rate = {
            "k": result.k,
            "split_at": result.split_at.date().isoformat(),
            "customers": result.customers,
            "hit_rate": result.hit_rate,
            "popularity_hit_rate": result.popularity_hit_rate,
            "customers_with_history": result.customers_with_history,
            "hit_rate_with_history": _finite(result.hit_rate_with_history),
            "popularity_hit_rate_with_history": _finite(result.popularity_hit_rate_with_history),
        }
    return Recommendations(items, hit_rate)


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _because(model: recommend.ItemSimilarity, lines: pd.DataFrame, items: pd.DataFrame) -> list:
    """For each recommended row: the product the customer bought whose similarity to it is largest (the term
    that contributes most to the score sum_i S[i, j]); None for popular fills."""
    out: list = [None] * len(items)
    similar = items[items["source"] == "similar"][["customer_id", "product_id"]]
    if similar.empty:
        return out
    bought = lines[["customer_id", "product_id"]].drop_duplicates().rename(columns={"product_id": "bought"})
    pairs = similar.reset_index(names="row").merge(bought, on="customer_id")
    i = model.items.get_indexer(pairs["bought"])
    j = model.items.get_indexer(pairs["product_id"])
    known = (i >= 0) & (j >= 0)
    pairs = pairs[known]
    pairs["s"] = np.asarray(model.similarity[i[known], j[known]]).ravel()
    best = (
        pairs[pairs["s"] > 0]
        .sort_values(["row", "s", "bought"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("row")
    )
    for row, product in zip(best["row"], best["bought"], strict=True):
        out[row] = int(product)
    return out


def needs_segments(
    orders: pd.DataFrame, lines: pd.DataFrame, *, as_of: date, seed: int = 0
) -> needs.NeedsSegments | None:
    """Needs-based segments from the orders (customer_id, order_id, ordered_at, amount) and, where lines name a
    category, the category mix; None when there are too few customers (or too alike) to cluster.

    No discount share: orders carry no discount amounts."""
    categorised = lines[lines["category"].astype(str) != ""]
    try:
        features = needs.needs_features(
            orders,
            as_of=as_of,
            date_col="ordered_at",
            order_col="order_id",
            lines=categorised if not categorised.empty else None,
            lines_amount_col="amount",
            lines_date_col="ordered_at",
        )
        return needs.needs_segments(features, seed=seed)
    except AnalyticsInputError:
        return None


@dataclass(frozen=True)
class MonthlyForecast:
    """The per-customer forecast and its totals: ``totals`` has grouping, group, month, month_end, customers,
    purchases, revenue (grouping "total" with group "", then one block per attribute in GROUPINGS)."""

    customers: forecast.Forecast
    totals: pd.DataFrame


def monthly_forecast(
    result: PipelineResult, attributes: pd.DataFrame, *, as_of: date, months: int = 12
) -> MonthlyForecast:
    """Forecast months 1..``months`` from the pipeline's own fits (BG/NBD and Gamma-Gamma, in days), so the
    forecast agrees with the scores of the same run; totals overall and by segment, tier, industry and region
    (``attributes``: customer_id and those columns)."""
    summary = result.customers[_SUMMARY].copy()
    summary["customer_id"] = summary["customer_id"].astype("int64")
    per_customer = forecast.forecast_customers(
        summary, result.bgnbd.params, result.gamma_gamma.params, as_of=as_of, months=months, unit="D"
    )
    frames = []
    everyone = attributes[["customer_id"]].assign(total="")
    for grouping, frame in [("total", everyone), *((g, attributes) for g in GROUPINGS)]:
        totals = forecast.aggregate_forecast(per_customer, frame, grouping)
        totals = totals.rename(columns={grouping: "group"})
        totals["group"] = totals["group"].where(totals["group"].notna(), "").astype(str)
        totals.insert(0, "grouping", grouping)
        frames.append(totals)
    return MonthlyForecast(per_customer, pd.concat(frames, ignore_index=True))


def backtest(orders: pd.DataFrame, *, as_of: date, months: int) -> dict:
    """``guanxi.analytics.forecast.backtest`` fitted ``months`` months before ``as_of`` and checked against the
    months up to ``as_of``, as JSON rows; {} when the history is too short to fit."""
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=months)).date()
    try:
        result = forecast.backtest(orders, as_of=start, months=months, date_col="ordered_at", unit="D", data_end=as_of)
    except AnalyticsInputError:
        return {}
    rows = [
        {
            "month": int(row.month),
            "month_end": row.month_end.date().isoformat(),
            "forecast_purchases": float(row.forecast_purchases),
            "actual_purchases": float(row.actual_purchases),
            "forecast_revenue": float(row.forecast_revenue),
            "actual_revenue": float(row.actual_revenue),
        }
        for row in result.months.itertuples()
    ]
    return {"as_of": start.isoformat(), "months": rows}
