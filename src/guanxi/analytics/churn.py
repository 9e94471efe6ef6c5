"""Churn risk: purchase features at a cutoff, a calibrated gradient-boosting classifier, a BG/NBD baseline, reasons.

Input: transactions (customer id, purchase date or timestamp, amount >= 0 in currency; pandas or Ibis, validated by
:func:`guanxi.analytics.cohorts.transactions_frame`), and optionally extra numeric feature frames per customer
(support tickets, surveys, interactions ...). Purchases are purchase *days*: same-day orders are merged and their
amounts summed, as in :mod:`guanxi.analytics.engine`.

Features of a customer at a cutoff c (inclusive; only customers whose first purchase is on or before c), in days:

* ``recency_days``        c - last purchase day
* ``frequency``           purchase days up to c
* ``monetary``            mean amount per purchase day (currency)
* ``tenure_days``         c - first purchase day
* ``interval_mean_days``  mean gap between consecutive purchase days, (last - first) / (frequency - 1); NaN for
  a single purchase
* ``interval_std_days``   population standard deviation of those gaps; NaN with fewer than two gaps
* ``purchases_last_90d``  purchase days in (c - 90, c]
* ``trend_90d``           (last 90 - previous 90) / (last 90 + previous 90) purchase days, in [-1, 1]; NaN when
  there were none in the 180 days
* ``overdue_days``        recency_days - interval_mean_days (how late the customer is against their own rhythm)

plus the columns of the extra frames (NaN where a customer has no row). Missing values are left as NaN: the
classifier routes them natively.

Label: *churned* = no purchase in (c, c + horizon], horizon 90 days by default.

Time-based evaluation (:func:`evaluate_churn`): the model is trained on the customers known at a training cutoff
c1 with labels from (c1, c1 + h], and tested at a later cutoff c2 >= c1 + h whose label window (c2, c2 + h] ends
by ``as_of`` -- so the test labels lie entirely after everything the model saw. Defaults: c2 = as_of - h,
c1 = c2 - h.

Model: scikit-learn's HistGradientBoostingClassifier (Ke et al. 2017, "LightGBM", NeurIPS; early stopping on a
validation slice), whose probabilities are then calibrated on a held-out share of the training customers the
booster never saw (isotonic regression, Zadrozny & Elkan 2002, when that share has >= 2,000 customers; Platt's
sigmoid otherwise). Training uses at most ``max_train_rows`` customers (a seeded random sample): beyond a few
hundred thousand rows the model barely changes and fitting time grows linearly.

Baselines (same test customers): the BG/NBD model (Fader, Hardie & Lee 2005, Marketing Science 24(2)) fitted on
the training cutoff's summary (times in days), scored at the test cutoff with

* ``bgnbd_dead``        = 1 - P(alive) (FHL 2008 note, eq. 2), the classic BTYD churn score;
* ``bgnbd_no_purchase`` = P(no purchase in the next h days) = 1 - P(alive) * (1 - ((alpha+T)/(alpha+T+h))^(r+x)),
  the BG/NBD probability of exactly the label (given alive, lambda ~ Gamma(r+x, alpha+T) and a customer can
  only die right after a purchase, so no purchase in h happens with probability ((alpha+T)/(alpha+T+h))^(r+x)).

Metrics: ROC AUC, and precision in the top 10% of scores (ties at the cut-off counted at their average rate, so
a score with many ties -- 1 - P(alive) is 0 for every one-time buyer -- is neither flattered nor penalised).

Reasons (:meth:`ChurnModel.contributions`): for each customer and feature j, the contribution is
p(x) - p(x with x_j replaced by r_j), in calibrated probability points, where r_j is the median of j among the
training customers who did *not* churn -- "how much lower would this customer's risk be if this one feature were
like a typical retained customer's". The reference is the retained customers, not everyone, because in most
customer bases the majority has already lapsed: against an all-customer median the "typical" customer is a lapsed
one, and the features of an at-risk customer would look normal. The method is exact for the model (no
surrogate), costs one extra prediction per feature per customer (vectorised: all customers at once, one feature
at a time), and is honest about what it is: a one-at-a-time, ceteris-paribus effect. Interactions are attributed
to each feature involved, correlated features (recency and overdue) can share or split an effect, and
contributions need not add up to p(x) - p(reference customer). The main reasons are the features with the
largest positive contributions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from guanxi.analytics import btyd
from guanxi.analytics.cohorts import Transactions, as_of_date, transactions_frame
from guanxi.analytics.errors import AnalyticsInputError

PURCHASE_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "interval_mean_days",
    "interval_std_days",
    "purchases_last_90d",
    "trend_90d",
    "overdue_days",
)
FEATURE_LABELS: Mapping[str, tuple[str, str]] = {  # feature -> (English, Simplified Chinese)
    "recency_days": ("days since the last purchase", "距上次购买天数"),
    "frequency": ("number of purchases", "购买次数"),
    "monetary": ("average purchase amount", "平均购买金额"),
    "tenure_days": ("days since the first purchase", "首次购买至今天数"),
    "interval_mean_days": ("average days between purchases", "平均购买间隔天数"),
    "interval_std_days": ("irregular purchase intervals", "购买间隔不规律"),
    "purchases_last_90d": ("purchases in the last 90 days", "近90天购买次数"),
    "trend_90d": ("purchases in the last 90 days against the 90 before", "近90天与前90天的购买趋势"),
    "overdue_days": ("days overdue against their own purchase rhythm", "超出自身购买周期的天数"),
}
_TREND_DAYS = 90
_EPOCH = np.datetime64("1970-01-01", "D")
Calibration = Literal["auto", "isotonic", "sigmoid"]
ExtraFeatures = Sequence[pd.DataFrame] | Callable[[pd.Timestamp], Sequence[pd.DataFrame]] | None
FloatArray = NDArray[np.float64]


_SINGLE_THREAD_BELOW = 100_000


@contextlib.contextmanager
def _threads_for(rows: int) -> Iterator[None]:
    """One OpenMP thread for small problems: they gain nothing from threads, and on a loaded machine threads
    waiting for busy cores made the CDNOW-sized fits and predictions 3x slower (22 s against 8 s for the tests)."""
    if rows >= _SINGLE_THREAD_BELOW:
        yield
        return
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def _day_number(stamp: pd.Timestamp) -> int:
    return int((stamp - pd.Timestamp("1970-01-01")).days)


# --- purchase history --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PurchaseHistory:
    """Purchase days of every customer, sorted by (customer, day): built once, queried at several cutoffs.

    ``customers`` holds the ids (sorted); ``code`` indexes into it; ``day`` counts days since 1970-01-01;
    ``amount`` is the day's total.
    """

    customers: pd.Index
    code: NDArray[np.int64]
    day: NDArray[np.int64]
    amount: FloatArray

    @classmethod
    def from_transactions(
        cls,
        transactions: Transactions,
        *,
        customer_col: str = "customer_id",
        date_col: str = "purchased_at",
        amount_col: str = "amount",
    ) -> PurchaseHistory:
        frame = transactions_frame(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
        return cls.from_frame(frame)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> PurchaseHistory:
        """From a frame already validated by ``transactions_frame`` (``customer_id``, ``day``, ``amount``)."""
        if frame.empty:
            raise AnalyticsInputError("there are no transactions")
        codes, customers = pd.factorize(frame["customer_id"], sort=True)
        days = frame["day"].to_numpy("datetime64[D]").astype(np.int64)
        first_day = int(days.min())
        span = int(days.max()) - first_day + 1
        key, inverse = np.unique(codes.astype(np.int64) * span + (days - first_day), return_inverse=True)
        amount = np.bincount(inverse, weights=frame["amount"].to_numpy(np.float64), minlength=len(key)).astype(
            np.float64
        )
        return cls(
            customers=pd.Index(customers, name="customer_id"),
            code=key // span,
            day=key % span + first_day,
            amount=amount,
        )

    def _upto(self, cutoff: int) -> tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]:
        keep = self.day <= cutoff
        return self.code[keep], self.day[keep], self.amount[keep]

    def summary(self, cutoff: dt.date | str | pd.Timestamp) -> pd.DataFrame:
        """BTYD summary at ``cutoff`` in days (engine.summary_expr with period="D", unit="D"): x, t_x, T."""
        code, day, _ = self._upto(_day_number(as_of_date(cutoff, "cutoff")))
        n = np.bincount(code, minlength=len(self.customers))
        known = n > 0
        first = np.zeros(len(self.customers), dtype=np.int64)
        last = np.zeros(len(self.customers), dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]) if len(code) else np.zeros(0, dtype=np.int64)
        ends = np.r_[starts[1:] - 1, len(code) - 1] if len(code) else starts
        first[code[starts]], last[code[ends]] = day[starts], day[ends]
        cut = _day_number(as_of_date(cutoff, "cutoff"))
        return pd.DataFrame(
            {
                "frequency": n[known] - 1,
                "recency": (last - first)[known].astype(np.float64),
                "T": (cut - first)[known].astype(np.float64),
            },
            index=self.customers[known],
        )

    def features(self, cutoff: dt.date | str | pd.Timestamp) -> pd.DataFrame:
        """Purchase features (``PURCHASE_FEATURES``) at ``cutoff``, one row per customer known by then."""
        cut = _day_number(as_of_date(cutoff, "cutoff"))
        code, day, amount = self._upto(cut)
        size = len(self.customers)
        n = np.bincount(code, minlength=size).astype(np.float64)
        known = n > 0
        if not known.any():
            raise AnalyticsInputError(f"no customer purchased on or before the cutoff {as_of_date(cutoff).date()}")
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        ends = np.r_[starts[1:] - 1, len(code) - 1]
        first, last = np.zeros(size), np.zeros(size)
        first[code[starts]], last[code[ends]] = day[starts], day[ends]
        same = code[1:] == code[:-1]
        gaps, gap_code = (day[1:] - day[:-1])[same].astype(np.float64), code[1:][same]
        n_gaps = n - 1
        sum_gaps = np.bincount(gap_code, weights=gaps, minlength=size)
        sum_squares = np.bincount(gap_code, weights=gaps**2, minlength=size)
        recent = np.bincount(code[day > cut - _TREND_DAYS], minlength=size).astype(np.float64)
        before = np.bincount(code[(day > cut - 2 * _TREND_DAYS) & (day <= cut - _TREND_DAYS)], minlength=size).astype(
            np.float64
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            interval = np.where(n_gaps >= 1, sum_gaps / n_gaps, np.nan)
            variance = np.where(n_gaps >= 2, np.maximum(sum_squares / n_gaps - interval**2, 0.0), np.nan)
            trend = np.where(recent + before > 0, (recent - before) / (recent + before), np.nan)
            monetary = np.bincount(code, weights=amount, minlength=size) / n
        recency = cut - last
        columns = {
            "recency_days": recency,
            "frequency": n,
            "monetary": monetary,
            "tenure_days": cut - first,
            "interval_mean_days": interval,
            "interval_std_days": np.sqrt(variance),
            "purchases_last_90d": recent,
            "trend_90d": trend,
            "overdue_days": recency - interval,
        }
        return pd.DataFrame({k: v[known] for k, v in columns.items()}, index=self.customers[known])

    def churned(self, cutoff: dt.date | str | pd.Timestamp, horizon_days: int) -> pd.Series:
        """True for each customer known at ``cutoff`` who made no purchase in (cutoff, cutoff + horizon_days]."""
        cut = _day_number(as_of_date(cutoff, "cutoff"))
        size = len(self.customers)
        known = np.bincount(self.code[self.day <= cut], minlength=size) > 0
        window = (self.day > cut) & (self.day <= cut + horizon_days)
        bought = np.bincount(self.code[window], minlength=size) > 0
        return pd.Series(~bought[known], index=self.customers[known], name="churned")

    @property
    def last_day(self) -> pd.Timestamp:
        return pd.Timestamp(_EPOCH + np.timedelta64(int(self.day.max()), "D"))


def _extra_frames(extra: ExtraFeatures, cutoff: pd.Timestamp) -> list[pd.DataFrame]:
    if extra is None:
        return []
    frames = extra(cutoff) if callable(extra) else extra
    if isinstance(frames, pd.DataFrame):
        frames = [frames]
    return list(frames)


def join_extra_features(features: pd.DataFrame, frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Left-join numeric feature frames (keyed by a ``customer_id`` column, or by their index) onto ``features``.

    Raises AnalyticsInputError for duplicate customer ids, non-numeric columns or a column name used twice.
    Customers absent from a frame get NaN.
    """
    out = features
    for position, frame in enumerate(frames, start=1):
        if not isinstance(frame, pd.DataFrame):
            raise AnalyticsInputError(f"extra feature frame {position} is not a pandas DataFrame")
        keyed = frame.set_index("customer_id") if "customer_id" in frame.columns else frame
        if keyed.index.has_duplicates:
            raise AnalyticsInputError(f"extra feature frame {position} has duplicate customer ids")
        bad = [
            str(c)
            for c in keyed.columns
            if not (pd.api.types.is_numeric_dtype(keyed[c].dtype) or pd.api.types.is_bool_dtype(keyed[c].dtype))
        ]
        if bad:
            raise AnalyticsInputError(f"extra feature frame {position} has non-numeric column(s) {bad}")
        clash = sorted(set(map(str, keyed.columns)) & set(map(str, out.columns)))
        if clash:
            raise AnalyticsInputError(f"extra feature frame {position} repeats feature name(s) {clash}")
        values = keyed.astype("float64").reindex(out.index)
        out = pd.concat([out, values], axis=1)
    return out


# --- the model ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnModel:
    """A calibrated churn classifier trained at ``cutoff`` for the label "no purchase in ``horizon_days``".

    ``medians`` are the medians of ``feature_names`` among the training customers who did not churn (the
    reference values of the reasons; see the module docstring).
    """

    classifier: CalibratedClassifierCV
    feature_names: tuple[str, ...]
    medians: tuple[float, ...]
    cutoff: pd.Timestamp
    horizon_days: int
    calibration: str
    n_train: int

    def _matrix(self, features: pd.DataFrame) -> FloatArray:
        missing = [f for f in self.feature_names if f not in features.columns]
        if missing:
            raise AnalyticsInputError(f"features are missing column(s) {missing} that the model was trained on")
        return features[list(self.feature_names)].to_numpy(np.float64)

    def _predict(self, matrix: FloatArray) -> FloatArray:
        with _threads_for(len(matrix)):
            return np.asarray(self.classifier.predict_proba(matrix)[:, 1], dtype=np.float64)

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """Calibrated probability of churning in the next ``horizon_days``, per row of ``features``."""
        return pd.Series(self._predict(self._matrix(features)), index=features.index, name="churn_probability")

    def _contributions(self, matrix: FloatArray, chunk_rows: int) -> tuple[FloatArray, FloatArray]:
        base = np.empty(len(matrix))
        out = np.empty_like(matrix)
        for start in range(0, len(matrix), chunk_rows):
            block = matrix[start : start + chunk_rows]
            rows = slice(start, start + len(block))
            base[rows] = self._predict(block)
            changed = block.copy()
            for j, median in enumerate(self.medians):
                changed[:, j] = median
                out[rows, j] = base[rows] - self._predict(changed)
                changed[:, j] = block[:, j]
        return base, out

    def contributions(self, features: pd.DataFrame, *, chunk_rows: int = 250_000) -> pd.DataFrame:
        """Per customer and feature: p(x) - p(x with the feature at the retained customers' median), in points.

        Vectorised over customers: one prediction of all rows per feature (in chunks of ``chunk_rows`` to bound
        memory), so the cost is (features + 1) predictions per customer. See the module docstring for what this
        measures.
        """
        _, out = self._contributions(self._matrix(features), chunk_rows)
        return pd.DataFrame(out, index=features.index, columns=list(self.feature_names))

    def reasons(
        self,
        features: pd.DataFrame,
        *,
        top: int = 3,
        min_contribution: float = 0.005,
        min_probability: float | None = None,
    ) -> pd.DataFrame:
        """Churn probability and the ``top`` main reasons per customer.

        Columns: ``churn_probability``, then ``reason_1`` .. ``reason_top`` (feature names, None when fewer
        features raise the risk by at least ``min_contribution``) and ``contribution_1`` .. (probability points).
        With ``min_probability``, reasons are computed only for customers at least that likely to churn (the
        others get None), which saves most of the cost when only the at-risk customers need explaining.
        Labels for the names: ``FEATURE_LABELS`` (English, Simplified Chinese); extra features keep their names.
        """
        if top < 1:
            raise AnalyticsInputError("top must be >= 1")
        matrix = self._matrix(features)
        probability = self._predict(matrix)
        chosen = np.arange(len(matrix)) if min_probability is None else np.flatnonzero(probability >= min_probability)
        _, values = self._contributions(matrix[chosen], 250_000)
        top = min(top, len(self.feature_names))
        order = np.argsort(-values, axis=1, kind="stable")[:, :top]
        best = np.take_along_axis(values, order, axis=1)
        strong = best >= min_contribution
        names = np.full((len(matrix), top), None, dtype=object)
        amounts = np.full((len(matrix), top), np.nan)
        picked = np.asarray(self.feature_names, dtype=object)[order]
        picked[~strong] = None
        names[chosen] = picked
        amounts[chosen] = np.where(strong, best, np.nan)
        out = pd.DataFrame({"churn_probability": probability}, index=features.index)
        for i in range(top):
            out[f"reason_{i + 1}"] = names[:, i]
            out[f"contribution_{i + 1}"] = amounts[:, i]
        return out


def _check_labels(features: pd.DataFrame, churned: pd.Series) -> NDArray[np.bool_]:
    if not features.index.equals(churned.index):
        raise AnalyticsInputError("features and labels must have the same customers in the same order")
    labels = churned.to_numpy(dtype=bool)
    positives = int(labels.sum())
    if positives < 10 or len(labels) - positives < 10:
        raise AnalyticsInputError(
            f"{positives} of {len(labels)} customers churned: training needs at least 10 churners and 10 stayers"
        )
    return labels


def fit_churn_model(
    features: pd.DataFrame,
    churned: pd.Series,
    *,
    cutoff: dt.date | str | pd.Timestamp,
    horizon_days: int,
    seed: int = 0,
    calibration: Calibration = "auto",
    calibration_share: float = 0.25,
    max_train_rows: int = 250_000,
) -> ChurnModel:
    """Fit the booster on (1 - ``calibration_share``) of the customers and calibrate it on the rest.

    ``features`` are numeric (NaN allowed), indexed like ``churned`` (bool). Deterministic for a ``seed``.
    """
    if calibration not in ("auto", "isotonic", "sigmoid"):
        raise AnalyticsInputError("calibration must be 'auto', 'isotonic' or 'sigmoid'")
    if not 0.05 <= calibration_share <= 0.5:
        raise AnalyticsInputError("calibration_share must be between 0.05 and 0.5")
    labels = _check_labels(features, churned)
    matrix = features.to_numpy(np.float64)
    rng = np.random.default_rng(seed)
    if len(matrix) > max_train_rows:
        rows = np.sort(rng.choice(len(matrix), size=max_train_rows, replace=False))
        matrix, labels = matrix[rows], labels[rows]
    fit_x, cal_x, fit_y, cal_y = train_test_split(
        matrix, labels, test_size=calibration_share, stratify=labels, random_state=seed
    )
    # Shallow trees: the features are few and their effects smooth, and prediction cost (paid once per feature
    # for the reasons) grows with depth x trees; on CDNOW and a 1M-customer simulation deeper, slower boosters
    # gave the same test AUC.
    booster = HistGradientBoostingClassifier(
        learning_rate=0.2,
        max_iter=100,
        max_depth=3,
        l2_regularization=1.0,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=seed,
    )
    method = calibration if calibration != "auto" else ("isotonic" if len(cal_y) >= 2000 else "sigmoid")
    with _threads_for(len(fit_x)):
        booster.fit(fit_x, fit_y)
        calibrated = CalibratedClassifierCV(FrozenEstimator(booster), method=method).fit(cal_x, cal_y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN feature keeps NaN as its reference value
        medians = np.nanmedian(matrix[~labels], axis=0)
    return ChurnModel(
        classifier=calibrated,
        feature_names=tuple(map(str, features.columns)),
        medians=tuple(float(m) for m in medians),
        cutoff=as_of_date(cutoff, "cutoff"),
        horizon_days=int(horizon_days),
        calibration=method,
        n_train=len(matrix),
    )


# --- metrics and baselines ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreMetrics:
    """ROC AUC and precision in the top ``top_fraction`` of scores (share of churners among them)."""

    auc: float
    precision_at_top: float
    top_fraction: float


def precision_at_top(scores: np.ndarray, labels: np.ndarray, fraction: float = 0.1) -> float:
    """Share of positives among the ceil(fraction * n) highest scores; ties at the cut-off at their mean rate."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    k = max(1, int(np.ceil(fraction * len(scores))))
    threshold = np.sort(scores)[::-1][k - 1]
    above, tied = scores > threshold, scores == threshold
    taken_from_ties = k - int(above.sum())
    return float((labels[above].sum() + taken_from_ties * labels[tied].mean()) / k)


def score_metrics(scores: np.ndarray, labels: np.ndarray, top_fraction: float = 0.1) -> ScoreMetrics:
    labels = np.asarray(labels, dtype=bool)
    if labels.all() or not labels.any():
        raise AnalyticsInputError("the test customers are all churners or all stayers: AUC is undefined")
    return ScoreMetrics(
        auc=float(roc_auc_score(labels, scores)),
        precision_at_top=precision_at_top(scores, labels, top_fraction),
        top_fraction=top_fraction,
    )


def bgnbd_churn_scores(params: btyd.BGNBDParams, summary: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """BG/NBD churn scores for a summary in days: ``bgnbd_dead`` = 1 - P(alive), ``bgnbd_no_purchase``."""
    x, t_x, T = (summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
    alive = btyd.bgnbd_probability_alive(params, x, t_x, T)
    silent_if_alive = np.exp((params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + T + horizon_days)))
    return pd.DataFrame(
        {"bgnbd_dead": 1.0 - alive, "bgnbd_no_purchase": 1.0 - alive * (1.0 - silent_if_alive)}, index=summary.index
    )


# --- evaluation and scoring --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChurnEvaluation:
    """A time-split evaluation (module docstring). ``scores`` holds the test customers: ``churned`` and the
    scores of the model (``churn_probability``) and of the two BG/NBD baselines."""

    train_cutoff: pd.Timestamp
    test_cutoff: pd.Timestamp
    horizon_days: int
    n_train: int
    n_test: int
    train_churn_rate: float
    test_churn_rate: float
    model: ChurnModel
    model_metrics: ScoreMetrics
    alive_baseline: ScoreMetrics
    no_purchase_baseline: ScoreMetrics
    bgnbd: btyd.Fit[btyd.BGNBDParams]
    scores: pd.DataFrame


def _check_horizon(horizon_days: int) -> None:
    if not isinstance(horizon_days, int | np.integer) or horizon_days < 1:
        raise AnalyticsInputError("horizon_days must be a whole number >= 1")


def _history_until(
    transactions: Transactions, end: pd.Timestamp, customer_col: str, date_col: str, amount_col: str
) -> PurchaseHistory:
    frame = transactions_frame(transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col)
    frame = frame[frame["day"] <= end]
    if frame.empty:
        raise AnalyticsInputError(f"no purchases on or before {end.date()}")
    return PurchaseHistory.from_frame(frame)


def _training_set(
    history: PurchaseHistory, cutoff: pd.Timestamp, horizon_days: int, extra: ExtraFeatures
) -> tuple[pd.DataFrame, pd.Series]:
    features = join_extra_features(history.features(cutoff), _extra_frames(extra, cutoff))
    return features, history.churned(cutoff, horizon_days)


def evaluate_churn(
    transactions: Transactions,
    *,
    as_of: dt.date | str | pd.Timestamp,
    horizon_days: int = 90,
    train_cutoff: dt.date | str | pd.Timestamp | None = None,
    test_cutoff: dt.date | str | pd.Timestamp | None = None,
    extra: ExtraFeatures = None,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    seed: int = 0,
    calibration: Calibration = "auto",
    top_fraction: float = 0.1,
) -> ChurnEvaluation:
    """Train at ``train_cutoff``, test at ``test_cutoff``, against the BG/NBD baselines (module docstring).

    ``extra`` is a list of feature frames, or a function of the cutoff returning them: pass a function when the
    features change over time, so that each cutoff sees only what was known then (a fixed frame computed today
    leaks the future into the training cutoff).
    """
    _check_horizon(horizon_days)
    end = as_of_date(as_of)
    test = as_of_date(test_cutoff, "test_cutoff") if test_cutoff is not None else end - pd.Timedelta(days=horizon_days)
    train = (
        as_of_date(train_cutoff, "train_cutoff") if train_cutoff is not None else test - pd.Timedelta(days=horizon_days)
    )
    if test + pd.Timedelta(days=horizon_days) > end:
        raise AnalyticsInputError(
            f"the test labels need data up to {(test + pd.Timedelta(days=horizon_days)).date()},"
            f" after as_of {end.date()}"
        )
    if train + pd.Timedelta(days=horizon_days) > test:
        raise AnalyticsInputError(
            f"the training labels end on {(train + pd.Timedelta(days=horizon_days)).date()}, after the test cutoff"
            f" {test.date()}: choose train_cutoff <= test_cutoff - horizon_days"
        )
    history = _history_until(transactions, end, customer_col, date_col, amount_col)
    train_x, train_y = _training_set(history, train, horizon_days, extra)
    model = fit_churn_model(
        train_x, train_y, cutoff=train, horizon_days=horizon_days, seed=seed, calibration=calibration
    )
    test_x, test_y = _training_set(history, test, horizon_days, extra)
    if list(test_x.columns) != list(train_x.columns):
        raise AnalyticsInputError("the extra features at the test cutoff have different columns than at training")
    probability = model.predict(test_x)

    train_summary = history.summary(train)
    compressed = train_summary.groupby(["frequency", "recency", "T"], as_index=False).size()
    fit = btyd.fit_bgnbd(compressed["frequency"], compressed["recency"], compressed["T"], compressed["size"])
    baseline = bgnbd_churn_scores(fit.params, history.summary(test), horizon_days)
    labels = test_y.to_numpy()
    scores = pd.concat([test_y, probability, baseline.reindex(test_y.index)], axis=1)
    return ChurnEvaluation(
        train_cutoff=train,
        test_cutoff=test,
        horizon_days=int(horizon_days),
        n_train=len(train_y),
        n_test=len(test_y),
        train_churn_rate=float(train_y.mean()),
        test_churn_rate=float(test_y.mean()),
        model=model,
        model_metrics=score_metrics(probability.to_numpy(), labels, top_fraction),
        alive_baseline=score_metrics(scores["bgnbd_dead"].to_numpy(), labels, top_fraction),
        no_purchase_baseline=score_metrics(scores["bgnbd_no_purchase"].to_numpy(), labels, top_fraction),
        bgnbd=fit,
        scores=scores,
    )


def churn_scores(
    transactions: Transactions,
    *,
    as_of: dt.date | str | pd.Timestamp,
    horizon_days: int = 90,
    extra: ExtraFeatures = None,
    customer_col: str = "customer_id",
    date_col: str = "purchased_at",
    amount_col: str = "amount",
    seed: int = 0,
    calibration: Calibration = "auto",
    top: int = 3,
    reasons_min_probability: float | None = None,
) -> tuple[ChurnModel, pd.DataFrame]:
    """Train on the latest labelled cutoff (``as_of - horizon_days``) and score every customer at ``as_of``.

    Returns the model and one row per customer known at ``as_of``: ``churn_probability`` of no purchase in
    (as_of, as_of + horizon_days] and the main reasons (:meth:`ChurnModel.reasons`; ``reasons_min_probability``
    limits them to the customers at risk, see there).
    """
    _check_horizon(horizon_days)
    end = as_of_date(as_of)
    cutoff = end - pd.Timedelta(days=horizon_days)
    history = _history_until(transactions, end, customer_col, date_col, amount_col)
    train_x, train_y = _training_set(history, cutoff, horizon_days, extra)
    model = fit_churn_model(
        train_x, train_y, cutoff=cutoff, horizon_days=horizon_days, seed=seed, calibration=calibration
    )
    now = join_extra_features(history.features(end), _extra_frames(extra, end))
    if list(now.columns) != list(train_x.columns):
        raise AnalyticsInputError("the extra features at as_of have different columns than at the training cutoff")
    return model, model.reasons(now, top=top, min_probability=reasons_min_probability)
