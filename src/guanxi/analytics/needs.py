"""Needs-based segments: customers clustered by how they buy, with readable English and Chinese profiles.

Input: transactions (customer id, date or timestamp, amount >= 0 in currency; optionally an order id and a
discount column), pandas or Ibis, validated by :func:`guanxi.analytics.cohorts.transactions_frame`; optionally order
lines with a category (and an amount) for the category mix. Everything is measured as of ``as_of`` (inclusive).

Behaviour features per customer:

* ``basket_size``             mean order amount (currency). An order is a row, or the rows sharing ``order_col``.
* ``frequency_per_month``     purchase days per month since the first purchase: purchase days * 30.44 /
  max(days from the first purchase to ``as_of`` + 1, 30.44) (so a brand-new customer is not "30 a month").
* ``purchase_interval_days``  mean days between consecutive purchase days; for a one-time buyer, the days since
  their purchase (a lower bound: they have not been back yet).
* ``discount_share``          (with ``discount_col``) discount / (amount + discount) summed over the customer's
  rows, when the column holds discount amounts (amount is what was paid); the share of discounted orders when it
  is boolean.
* ``category_<name>``         (with ``lines``) the share of the customer's spend (or lines, without an amount) in
  each of the ``max_categories`` largest categories; the rest is ``category_other``. Customers without lines get
  the population's mean shares.

Clustering: log(1 + x) of the three skewed features (basket, frequency, interval), then every feature standardised
(z-scores); the category block is scaled by sqrt(2 / number of category columns) so that the whole mix weighs as
much as two behaviour features, however many categories there are. k-means (Lloyd; k-means++ seeding, Arthur &
Vassilvitskii 2007) for up to 50,000 customers, mini-batch k-means (Sculley 2010) above. Unless ``k`` is given,
k in 3..8 maximises the mean silhouette (Rousseeuw 1987) of a seeded sample of at most 5,000 customers, each
candidate fitted on a sample of at most 50,000. Deterministic for a ``seed``.

Profiles: for each segment the mean of each raw feature and its z-score -- the segment's mean of the standardised
feature, i.e. how many population standard deviations the segment sits above (+) or below (-) everyone. Features
with |z| >= 0.5 describe the segment, strongest first, through these templates:

    feature                  z >= +0.5                         z <= -0.5
    discount_share           price-sensitive   / 价格敏感       full-price     / 偏好原价
    basket_size              big-basket        / 大额订单       small-basket   / 小额订单
    category_<c>             <c>-focused       / 偏好<c>        (not used)
    frequency_per_month      frequent          / 高频           occasional     / 低频
    purchase_interval_days   occasional        / 低频           frequent       / 高频

Frequency and interval both describe the pace; the stronger of the two gives the pace word. Up to two other
descriptors come first. English: "<descriptor>, <descriptor> <pace> buyers" ("price-sensitive frequent buyers");
Chinese: "<descriptor>、<descriptor>的<pace>买家" ("价格敏感的高频买家"); without a pace word "... buyers" /
"...的买家"; with nothing distinctive "typical buyers" / "普通买家". When two segments get the same label, a third
descriptor (from |z| >= 0.25) is added, then a number. Category names appear as they are in the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from guanxi.analytics.cohorts import Transactions, _frame_dates, _missing_columns, as_of_date, transactions_frame
from guanxi.analytics.errors import AnalyticsInputError

DAYS_PER_MONTH = 365.25 / 12
_SKEWED = ("basket_size", "frequency_per_month", "purchase_interval_days")
_THRESHOLD, _EXTRA_THRESHOLD = 0.5, 0.25
_MINI_BATCH_ABOVE = 50_000
_SILHOUETTE_SAMPLE = 5_000
# feature -> ((English, Chinese) when high, (English, Chinese) when low); None: not used
TEMPLATES: Mapping[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = {
    "discount_share": (("price-sensitive", "价格敏感"), ("full-price", "偏好原价")),
    "basket_size": (("big-basket", "大额订单"), ("small-basket", "小额订单")),
}
PACE_TEMPLATES: Mapping[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "frequency_per_month": (("frequent", "高频"), ("occasional", "低频")),
    "purchase_interval_days": (("occasional", "低频"), ("frequent", "高频")),
}
CATEGORY_PREFIX = "category_"
FloatArray = NDArray[np.float64]


# --- features ----------------------------------------------------------------------------------------------------


def _category_mix(
    lines: pd.DataFrame,
    customers: pd.Index,
    *,
    customer_col: str,
    category_col: str,
    amount_col: str | None,
    date_col: str | None,
    as_of: pd.Timestamp,
    max_categories: int,
) -> pd.DataFrame:
    roles = {"customer": customer_col, "category": category_col}
    if amount_col is not None:
        roles["amount"] = amount_col
    if date_col is not None:
        roles["date"] = date_col
    _missing_columns(list(map(str, lines.columns)), roles, "lines")
    frame = pd.DataFrame({"customer_id": lines[customer_col].to_numpy(), "category": lines[category_col].to_numpy()})
    if frame["customer_id"].isna().any() or frame["category"].isna().any():
        raise AnalyticsInputError(f"lines: missing customer id or category in {customer_col!r} / {category_col!r}")
    if amount_col is not None:
        weight = pd.to_numeric(lines[amount_col], errors="coerce").to_numpy(np.float64)
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise AnalyticsInputError(f"lines: amounts in {amount_col!r} must be numbers >= 0")
    else:
        weight = np.ones(len(frame))
    frame["weight"] = weight
    if date_col is not None:
        day = _frame_dates(lines[date_col])
        if day.isna().any():
            raise AnalyticsInputError(f"lines: {int(day.isna().sum())} row(s) have an unparseable date in {date_col!r}")
        frame = frame[(day <= as_of).to_numpy()]
    totals = frame.groupby("category")["weight"].sum().sort_values(ascending=False, kind="stable")
    top = [c for c in totals.index[:max_categories] if totals[c] > 0]
    frame["category"] = frame["category"].where(frame["category"].isin(top), "other")
    names = [*map(str, top), *(["other"] if (frame["category"] == "other").any() else [])]
    spend = frame.pivot_table(index="customer_id", columns="category", values="weight", aggfunc="sum", fill_value=0.0)
    spend.columns = spend.columns.map(str)
    spend = spend.reindex(columns=names, fill_value=0.0)
    total = spend.sum(axis=1)
    shares = spend[total > 0].div(total[total > 0], axis=0).reindex(customers)
    shares = shares.fillna(shares.mean()).fillna(0.0)
    shares.columns = [f"{CATEGORY_PREFIX}{c}" for c in shares.columns]
    return shares


def needs_features(
    transactions: Transactions,
    *,
    as_of: dt.date | str | pd.Timestamp,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    order_col: str | None = None,
    discount_col: str | None = None,
    lines: pd.DataFrame | None = None,
    lines_customer_col: str = "customer_id",
    category_col: str = "category",
    lines_amount_col: str | None = None,
    lines_date_col: str | None = None,
    max_categories: int = 8,
) -> pd.DataFrame:
    """The behaviour features of the module docstring, one row per customer who bought on or before ``as_of``."""
    end = as_of_date(as_of)
    keep = {}
    if order_col is not None:
        keep["order_id"] = order_col
    if discount_col is not None:
        keep["discount"] = discount_col
    frame = transactions_frame(
        transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col, keep=keep
    )
    frame = frame[frame["day"] <= end]
    if frame.empty:
        raise AnalyticsInputError(f"no purchases on or before {end.date()}")
    orders = (
        frame.groupby(["customer_id", "order_id"], sort=False)["amount"].sum().groupby(level=0).mean()
        if order_col is not None
        else frame.groupby("customer_id")["amount"].mean()
    )
    days = frame[["customer_id", "day"]].drop_duplicates()
    per_customer = days.groupby("customer_id")["day"].agg(["min", "max", "size"])
    customers = per_customer.index.rename("customer_id")
    observed = (end - per_customer["min"]).dt.days.to_numpy(np.float64)
    span = (per_customer["max"] - per_customer["min"]).dt.days.to_numpy(np.float64)
    n_days = per_customer["size"].to_numpy(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        interval = np.where(n_days > 1, span / (n_days - 1), observed)
    out = pd.DataFrame(
        {
            "basket_size": orders.reindex(customers).to_numpy(np.float64),
            "frequency_per_month": n_days * DAYS_PER_MONTH / np.maximum(observed + 1, DAYS_PER_MONTH),
            "purchase_interval_days": interval,
        },
        index=customers,
    )
    if discount_col is not None:
        out["discount_share"] = _discount_share(frame, discount_col).reindex(customers).to_numpy()
    if lines is not None:
        if max_categories < 1:
            raise AnalyticsInputError("max_categories must be >= 1")
        mix = _category_mix(
            lines,
            customers,
            customer_col=lines_customer_col,
            category_col=category_col,
            amount_col=lines_amount_col,
            date_col=lines_date_col,
            as_of=end,
            max_categories=max_categories,
        )
        out = pd.concat([out, mix], axis=1)
    return out


def _discount_share(frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame["discount"]
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64").groupby(frame["customer_id"]).mean()
    discount = pd.to_numeric(raw, errors="coerce")
    if discount.isna().any() or (discount < 0).any():
        raise AnalyticsInputError(f"discount column {column!r} must hold amounts >= 0 (or True/False)")
    gross = (frame["amount"] + discount).groupby(frame["customer_id"]).sum()
    given = discount.groupby(frame["customer_id"]).sum()
    return (given / gross.where(gross > 0)).fillna(0.0)


# --- clustering --------------------------------------------------------------------------------------------------


def _standardise(features: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    """(z-scores per feature, the clustering matrix with the category block weighted)."""
    values = features.to_numpy(np.float64).copy()
    for j, name in enumerate(features.columns):
        if name in _SKEWED:
            values[:, j] = np.log1p(np.maximum(values[:, j], 0.0))
    if not np.all(np.isfinite(values)):
        raise AnalyticsInputError("features contain missing or infinite values")
    spread = values.std(axis=0)
    z = (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    categories = np.array([str(c).startswith(CATEGORY_PREFIX) for c in features.columns])
    weights = np.ones(len(features.columns))
    if categories.any():
        weights[categories] = np.sqrt(2.0 / categories.sum())
    return z, z * weights


def _kmeans(k: int, n: int, seed: int) -> KMeans | MiniBatchKMeans:
    if n > _MINI_BATCH_ABOVE:
        return MiniBatchKMeans(n_clusters=k, batch_size=4096, n_init=3, random_state=seed)
    return KMeans(n_clusters=k, n_init=4, random_state=seed)


def _fit_labels(k: int, matrix: FloatArray, seed: int) -> NDArray[np.int64]:
    if len(matrix) > _MINI_BATCH_ABOVE:
        return np.asarray(_kmeans(k, len(matrix), seed).fit(matrix).labels_, dtype=np.int64)
    # Up to 50,000 rows Lloyd's iterations take milliseconds on one thread, while OpenMP threads that wait for
    # busy cores made them 100x slower on a loaded machine (measured: 5.4 s instead of 0.06 s for 3,000 rows).
    with threadpool_limits(limits=1, user_api="openmp"):
        return np.asarray(_kmeans(k, len(matrix), seed).fit(matrix).labels_, dtype=np.int64)


def _choose_k(matrix: FloatArray, k_range: range, seed: int) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    n = len(matrix)
    fit_rows = np.sort(rng.choice(n, size=min(n, _MINI_BATCH_ABOVE), replace=False))
    score_rows = np.sort(rng.choice(n, size=min(n, _SILHOUETTE_SAMPLE), replace=False))
    scores = {}
    for k in k_range:
        if k >= min(len(fit_rows), len(score_rows)):
            break
        with threadpool_limits(limits=1, user_api="openmp"):
            model = _kmeans(k, len(fit_rows), seed).fit(matrix[fit_rows])
            labels = model.predict(matrix[score_rows])
        if len(np.unique(labels)) < 2:
            continue
        scores[k] = float(silhouette_score(matrix[score_rows], labels))
    return scores


# --- labels ------------------------------------------------------------------------------------------------------


def _descriptors(z: pd.Series, threshold: float) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """(descriptors strongest first, pace word) of one segment's z-scores."""
    found: list[tuple[float, tuple[str, str]]] = []
    for name, value in z.items():
        name = str(name)
        if name in TEMPLATES:
            high, low = TEMPLATES[name]
            words = high if value >= threshold else (low if value <= -threshold else None)
        elif name.startswith(CATEGORY_PREFIX) and name != f"{CATEGORY_PREFIX}other" and value >= threshold:
            category = name[len(CATEGORY_PREFIX) :]
            words = (f"{category}-focused", f"偏好{category}")
        else:
            words = None
        if words is not None:
            found.append((abs(float(value)), words))
    found.sort(key=lambda item: -item[0])
    pace = None
    pace_z = {name: float(z[name]) for name in PACE_TEMPLATES if name in z.index}
    if pace_z:
        name = max(pace_z, key=lambda n: abs(pace_z[n]))
        if abs(pace_z[name]) >= threshold:
            high, low = PACE_TEMPLATES[name]
            pace = high if pace_z[name] > 0 else low
    return [words for _, words in found], pace


def _label(descriptors: list[tuple[str, str]], pace: tuple[str, str] | None) -> tuple[str, str]:
    if not descriptors and pace is None:
        return "typical buyers", "普通买家"
    english = ", ".join(d[0] for d in descriptors)
    chinese = "、".join(d[1] for d in descriptors)
    if pace is not None:
        english = f"{english} {pace[0]} buyers".strip()
        chinese = f"{chinese}的{pace[1]}买家" if chinese else f"{pace[1]}买家"
    else:
        english, chinese = f"{english} buyers", f"{chinese}的买家"
    return english, chinese


def segment_labels(z_scores: pd.DataFrame) -> pd.DataFrame:
    """English and Chinese labels (``label_en``, ``label_zh``) from a segments x features z-score frame."""
    labels = {}
    for segment, row in z_scores.iterrows():  # one row per segment (at most a handful)
        descriptors, pace = _descriptors(row, _THRESHOLD)
        labels[segment] = (descriptors, pace, _label(descriptors[:2], pace))
    english = [v[2][0] for v in labels.values()]
    out = {}
    for segment, (_, pace, label) in labels.items():
        if english.count(label[0]) > 1:
            more, _ = _descriptors(z_scores.loc[segment], _EXTRA_THRESHOLD)
            label = _label(more[:3], pace)
        out[segment] = label
    final = pd.DataFrame.from_dict(out, orient="index", columns=["label_en", "label_zh"])
    repeated = final["label_en"].map(final["label_en"].value_counts()) > 1
    number = (final.groupby("label_en").cumcount() + 1).astype(str)
    final.loc[repeated, "label_en"] = final["label_en"] + " (" + number + ")"
    final.loc[repeated, "label_zh"] = final["label_zh"] + "（" + number + "）"
    return final


# --- the whole analysis ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeedsSegments:
    """Needs-based segments.

    ``assignments``: per customer ``segment`` (0..k-1, numbered by decreasing size), ``label_en``, ``label_zh``.
    ``profiles``: per segment ``customers``, ``share``, ``label_en``, ``label_zh``, the raw feature means and
    ``z_<feature>`` z-scores. ``silhouette``: the score of each candidate k (empty when k was given).
    """

    k: int
    features: pd.DataFrame
    assignments: pd.DataFrame
    profiles: pd.DataFrame
    silhouette: dict[int, float] = field(default_factory=dict)


def needs_segments(features: pd.DataFrame, *, k: int | None = None, seed: int = 0) -> NeedsSegments:
    """Cluster customers on ``features`` (from :func:`needs_features`, or any frame with the same column names)
    and describe each segment (module docstring). ``k`` fixes the number of segments; otherwise 3..8 by silhouette.
    """
    if features.empty:
        raise AnalyticsInputError("no customers to segment")
    bad = [str(c) for c in features.columns if not pd.api.types.is_numeric_dtype(features[c].dtype)]
    if bad:
        raise AnalyticsInputError(f"non-numeric feature column(s) {bad}")
    if k is not None and (not isinstance(k, int) or k < 2):
        raise AnalyticsInputError("k must be a whole number >= 2")
    z, matrix = _standardise(features)
    n = len(matrix)
    if n < 3 or (k is not None and k > n):
        raise AnalyticsInputError(f"{n} customer(s) are too few to form {k or 3} segments")
    scores: dict[int, float] = {}
    if k is None:
        scores = _choose_k(matrix, range(3, 9), seed)
        if not scores:
            raise AnalyticsInputError("the customers are too similar to form segments")
        k = max(scores, key=lambda key: (scores[key], -key))
    raw_labels = _fit_labels(k, matrix, seed)
    # Number segments by decreasing size (ties: lower k-means label first) so the numbering is stable.
    sizes = np.bincount(raw_labels, minlength=k)
    order = np.lexsort((np.arange(k), -sizes))
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    segment = relabel[raw_labels]
    z_frame = pd.DataFrame(z, index=features.index, columns=features.columns)
    z_means = z_frame.groupby(segment).mean()
    names = segment_labels(z_means)
    counts = np.bincount(segment, minlength=k)
    profiles = pd.DataFrame({"customers": counts, "share": counts / n}, index=pd.RangeIndex(k, name="segment"))
    profiles = profiles.join(names)
    profiles = profiles.join(features.groupby(segment).mean())
    profiles = profiles.join(z_means.add_prefix("z_"))
    assignments = pd.DataFrame({"segment": segment}, index=features.index)
    assignments["label_en"] = names["label_en"].reindex(segment).to_numpy()
    assignments["label_zh"] = names["label_zh"].reindex(segment).to_numpy()
    return NeedsSegments(k=k, features=features, assignments=assignments, profiles=profiles, silhouette=scores)
