"""Churn features, labels, the calibrated model against the BG/NBD baselines, and per-customer reasons.

Checked against: a pandas transcription of the feature definitions and the engine's BTYD summary (CDNOW); the
CDNOW time split (the figures are printed and reported in the package README; the assertions are the ones a
useful model must pass: AUC clearly above 0.5 and above 1 - P(alive)); a simulated base with a planted cause of
churn (a survey score) that the purchase history cannot see, where the model must beat the baselines and name the
planted feature as the reason; and the BG/NBD no-purchase probability against simulated BG/NBD customers.
"""

import numpy as np
import pandas as pd
import pytest

from guanxi.analytics import AnalyticsInputError, btyd, churn, engine

from .test_forecast import SPEND, TRUTH, simulate_bgnbd_transactions

CUTOFF = "1998-01-01"


@pytest.fixture(scope="module")
def cdnow(cdnow_frame) -> pd.DataFrame:
    return cdnow_frame.rename(columns={"customer": "customer_id"})[["customer_id", "purchased_at", "amount"]]


@pytest.fixture(scope="module")
def history(cdnow) -> churn.PurchaseHistory:
    return churn.PurchaseHistory.from_transactions(cdnow)


def reference_features(frame: pd.DataFrame, cutoff: str) -> pd.DataFrame:
    """The documented definitions, transcribed with pandas group-bys."""
    cut = pd.Timestamp(cutoff)
    days = frame[frame["purchased_at"] <= cut].groupby(["customer_id", "purchased_at"], as_index=False)["amount"].sum()
    by = days.groupby("customer_id")
    gaps = by["purchased_at"].diff().dt.days.groupby(days["customer_id"])
    recency = (cut - by["purchased_at"].max()).dt.days
    recent = days[days["purchased_at"] > cut - pd.Timedelta(days=90)].groupby("customer_id").size()
    before = days[
        (days["purchased_at"] > cut - pd.Timedelta(days=180)) & (days["purchased_at"] <= cut - pd.Timedelta(days=90))
    ].groupby("customer_id")
    out = pd.DataFrame({"recency_days": recency, "frequency": by.size(), "monetary": by["amount"].mean()})
    out["tenure_days"] = (cut - by["purchased_at"].min()).dt.days
    out["interval_mean_days"] = gaps.mean()
    out["interval_std_days"] = gaps.std(ddof=0).where(gaps.count() >= 2)
    out["purchases_last_90d"] = recent.reindex(out.index).fillna(0)
    previous = before.size().reindex(out.index).fillna(0)
    total = out["purchases_last_90d"] + previous
    out["trend_90d"] = ((out["purchases_last_90d"] - previous) / total).where(total > 0)
    out["overdue_days"] = out["recency_days"] - out["interval_mean_days"]
    return out.astype("float64")


# --- features and labels -----------------------------------------------------------------------------------------


def test_features_match_the_pandas_reference(history, cdnow):
    features = history.features(CUTOFF)
    reference = reference_features(cdnow, CUTOFF)
    assert list(features.columns) == list(churn.PURCHASE_FEATURES)
    assert features.index.tolist() == reference.index.tolist()
    pd.testing.assert_frame_equal(features, reference[list(churn.PURCHASE_FEATURES)], check_names=False)


def test_summary_matches_the_engine(history, cdnow_transactions):
    ours = history.summary(CUTOFF)
    theirs = engine.summary_frame(cdnow_transactions, as_of=CUTOFF, unit="D").set_index("customer_id")
    assert ours.index.tolist() == theirs.index.tolist()
    np.testing.assert_array_equal(ours["frequency"], theirs["frequency"])
    np.testing.assert_allclose(ours[["recency", "T"]], theirs[["recency", "T"]])


def test_labels_are_no_purchase_in_the_horizon(history, cdnow):
    churned = history.churned(CUTOFF, 90)
    window = cdnow[(cdnow["purchased_at"] > CUTOFF) & (cdnow["purchased_at"] <= "1998-04-01")]
    stayed = set(window["customer_id"])
    assert churned.index.tolist() == history.features(CUTOFF).index.tolist()
    assert churned.to_dict() == {c: c not in stayed for c in churned.index}
    assert int((~churned).sum()) == len(stayed)


# --- CDNOW: model against the baselines ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_evaluation(cdnow):
    return churn.evaluate_churn(cdnow, as_of="1998-06-30", horizon_days=90, seed=0)


def test_cdnow_time_split_and_figures(cdnow_evaluation):
    e = cdnow_evaluation
    assert (e.train_cutoff, e.test_cutoff) == (pd.Timestamp("1998-01-01"), pd.Timestamp("1998-04-01"))
    assert e.n_train == e.n_test == 2357  # every CDNOW customer was acquired in early 1997
    print(
        f"\nCDNOW churn (h=90d, train {e.train_cutoff.date()}, test {e.test_cutoff.date()}, churn rate"
        f" {e.test_churn_rate:.3f}): model AUC {e.model_metrics.auc:.3f} P@10% {e.model_metrics.precision_at_top:.3f};"
        f" 1-P(alive) AUC {e.alive_baseline.auc:.3f} P@10% {e.alive_baseline.precision_at_top:.3f};"
        f" BG/NBD P(no purchase) AUC {e.no_purchase_baseline.auc:.3f}"
        f" P@10% {e.no_purchase_baseline.precision_at_top:.3f}"
    )
    assert e.model_metrics.auc > 0.75
    assert e.model_metrics.auc > e.alive_baseline.auc + 0.2
    assert e.model_metrics.precision_at_top > e.test_churn_rate  # the top decile is riskier than average
    # A property of BG/NBD, visible in the data: P(alive) = 1 for every one-time buyer, the likeliest churners,
    # so 1 - P(alive) ranks them as the safest and its AUC falls below chance on CDNOW.
    one_timers = e.scores["bgnbd_dead"] == 0
    assert e.scores.loc[one_timers, "churned"].mean() > e.scores.loc[~one_timers, "churned"].mean()
    assert e.alive_baseline.auc < 0.5
    assert e.model.calibration == "sigmoid"  # 590 calibration customers: too few for isotonic regression


def test_cdnow_model_is_deterministic_for_a_seed(cdnow, cdnow_evaluation):
    again = churn.evaluate_churn(cdnow, as_of="1998-06-30", seed=0)
    pd.testing.assert_series_equal(again.scores["churn_probability"], cdnow_evaluation.scores["churn_probability"])


def test_cdnow_reasons_of_the_riskiest_customers_are_about_lapsing(cdnow_evaluation, history):
    features = history.features("1998-04-01")
    reasons = cdnow_evaluation.model.reasons(features, top=2)
    risky = reasons.nlargest(200, "churn_probability")
    lapsing = {"recency_days", "overdue_days", "purchases_last_90d", "trend_90d"}
    assert risky["reason_1"].isin(lapsing).mean() > 0.8
    assert (risky["contribution_1"] > 0).all()
    # Contributions are probability changes: never larger than the probability itself.
    assert (risky["contribution_1"] <= risky["churn_probability"] + 1e-12).all()


# --- simulated: a planted cause the purchases cannot show ----------------------------------------------------------

SIM_START, SIM_END = pd.Timestamp("2022-01-01"), pd.Timestamp("2024-06-30")


def simulate_unhappy_customers(n: int, seed: int):
    """Customers buy at a steady Poisson rate (mean every 15 days) until they turn unhappy (after ~400 days on
    average); about 30 days later they leave. A survey records the mood: 2 +- 1 when unhappy, 8 +- 1 before; a
    second extra feature, open tickets, is noise. Returns the transactions and the extra-feature function."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 600, n).astype(np.float64)
    unhappy_at = first + rng.exponential(400, n)
    leaves_at = unhappy_at + rng.exponential(30, n)
    rate = rng.gamma(4.0, 1 / (4 * 15), n)
    stop = np.minimum(leaves_at, (SIM_END - SIM_START).days + 1)
    owner = np.repeat(np.arange(n), rng.poisson(rate * (stop - first)))
    times = first[owner] + (stop - first)[owner] * rng.random(owner.size)
    customer = np.concatenate([np.arange(n), owner])
    day = np.floor(np.concatenate([first, times])).astype(np.int64)
    transactions = pd.DataFrame(
        {
            "customer_id": customer,
            "purchased_at": SIM_START + pd.to_timedelta(day, unit="D"),
            "amount": rng.gamma(3.0, 20.0, customer.size),
        }
    )
    survey_noise, tickets = rng.normal(0, 1, n), rng.poisson(1.0, n).astype(np.float64)

    def extra(cutoff: pd.Timestamp) -> list[pd.DataFrame]:
        unhappy = unhappy_at <= (cutoff - SIM_START).days
        mood = np.where(unhappy, 2.0, 8.0) + survey_noise
        return [
            pd.DataFrame({"customer_id": np.arange(n), "satisfaction": mood}),
            pd.DataFrame({"tickets_open": tickets}, index=pd.Index(np.arange(n), name="customer_id")),
        ]

    return transactions, extra


@pytest.fixture(scope="module")
def planted():
    transactions, extra = simulate_unhappy_customers(15_000, seed=3)
    evaluation = churn.evaluate_churn(transactions, as_of=SIM_END, extra=extra, seed=0)
    history = churn.PurchaseHistory.from_transactions(transactions)
    features = churn.join_extra_features(history.features(evaluation.test_cutoff), extra(evaluation.test_cutoff))
    return evaluation, features


def test_planted_cause_model_beats_the_baselines(planted):
    evaluation, features = planted
    scores = evaluation.scores
    print(
        f"\nplanted-signal churn: model AUC {evaluation.model_metrics.auc:.3f},"
        f" 1-P(alive) {evaluation.alive_baseline.auc:.3f}, P(no purchase) {evaluation.no_purchase_baseline.auc:.3f}"
    )
    assert evaluation.model_metrics.auc > evaluation.no_purchase_baseline.auc > evaluation.alive_baseline.auc
    # Among customers who bought in the last 30 days, lapsing is not visible yet: only the survey tells.
    active = features["recency_days"] <= 30
    on_active = {
        name: churn.score_metrics(scores.loc[active, name].to_numpy(), scores.loc[active, "churned"].to_numpy()).auc
        for name in ("churn_probability", "bgnbd_no_purchase")
    }
    assert on_active["churn_probability"] > 0.9
    assert on_active["churn_probability"] > on_active["bgnbd_no_purchase"] + 0.2, on_active


def test_planted_cause_is_the_reason(planted):
    evaluation, features = planted
    reasons = evaluation.model.reasons(features, top=3)
    active = features["recency_days"] <= 30
    unhappy = features["satisfaction"] < 5
    assert (active & unhappy).sum() > 200
    assert (reasons.loc[active & unhappy, "reason_1"] == "satisfaction").mean() > 0.9
    assert (reasons.loc[active & ~unhappy, "reason_1"] == "satisfaction").mean() < 0.05
    assert (reasons["reason_1"] == "tickets_open").mean() < 0.02  # noise is not a reason


def test_planted_probabilities_are_calibrated(planted):
    evaluation, _ = planted
    scores = evaluation.scores
    assert scores["churn_probability"].mean() == pytest.approx(scores["churned"].mean(), abs=0.03)
    bins = pd.qcut(scores["churn_probability"].rank(method="first"), 10, labels=False)
    table = scores.groupby(bins).agg(p=("churn_probability", "mean"), y=("churned", "mean"))
    assert (table["p"] - table["y"]).abs().max() < 0.06, table
    assert evaluation.model.calibration == "isotonic"


def test_reasons_can_be_limited_to_customers_at_risk(planted):
    evaluation, features = planted
    subset = features.iloc[:2000]
    every = evaluation.model.reasons(subset, top=2)
    limited = evaluation.model.reasons(subset, top=2, min_probability=0.5)
    at_risk = every["churn_probability"] >= 0.5
    assert 0 < at_risk.sum() < len(subset)
    pd.testing.assert_frame_equal(limited[at_risk], every[at_risk])
    assert limited.loc[~at_risk, ["reason_1", "reason_2"]].isna().all().all()
    assert limited.loc[~at_risk, "churn_probability"].equals(every.loc[~at_risk, "churn_probability"])


# --- the BG/NBD baseline and the metrics -------------------------------------------------------------------------


def test_bgnbd_no_purchase_probability_matches_simulated_customers():
    transactions = simulate_bgnbd_transactions(
        TRUTH, SPEND, 20_000, start="2023-01-01", acquisition_days=200, end="2024-03-30", seed=11
    )
    history = churn.PurchaseHistory.from_transactions(transactions)
    cutoff, horizon = pd.Timestamp("2023-12-31"), 90
    scores = churn.bgnbd_churn_scores(TRUTH, history.summary(cutoff), horizon)
    observed = history.churned(cutoff, horizon).to_numpy()
    predicted = scores["bgnbd_no_purchase"].to_numpy()
    standard_error = np.sqrt(np.sum(predicted * (1 - predicted)))
    assert abs(observed.sum() - predicted.sum()) < 4 * standard_error
    assert (scores["bgnbd_no_purchase"] >= scores["bgnbd_dead"] - 1e-12).all()  # dead customers never buy


def test_precision_at_top_counts_ties_at_their_average_rate():
    scores, labels = np.array([3.0, 2.0, 2.0, 2.0, 1.0]), np.array([1, 1, 0, 0, 0])
    # k = 2: the 3 (a churner) and one of three tied 2s, of which one in three is a churner.
    assert churn.precision_at_top(scores, labels, 0.4) == pytest.approx((1 + 1 / 3) / 2)
    assert churn.precision_at_top(np.arange(10.0), np.arange(10) >= 9, 0.1) == 1.0
    metrics = churn.score_metrics(np.array([0.1, 0.2, 0.9, 0.8]), np.array([0, 0, 1, 1]), 0.5)
    assert (metrics.auc, metrics.precision_at_top) == (1.0, 1.0)


# --- extra features and input errors -------------------------------------------------------------------------------


def test_extra_features_are_joined_by_customer(history):
    features = history.features(CUTOFF).head(3)
    ids = features.index.tolist()
    tickets = pd.DataFrame({"customer_id": [ids[0], "someone else"], "tickets": [4, 1]})
    survey = pd.DataFrame({"nps": [9.0, 3.0], "promoter": [True, False]}, index=[ids[1], ids[2]])
    joined = churn.join_extra_features(features, [tickets, survey])
    assert joined["tickets"].tolist()[0] == 4 and np.isnan(joined["tickets"].tolist()[1])
    assert joined["nps"].tolist()[1:] == [9.0, 3.0]
    assert joined["promoter"].tolist()[1:] == [1.0, 0.0]
    assert len(joined) == 3


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"customer_id": ["0001", "0001"], "x": [1, 2]}), "duplicate customer ids"),
        (pd.DataFrame({"customer_id": ["0001"], "x": ["high"]}), r"non-numeric column\(s\) \['x'\]"),
        (pd.DataFrame({"customer_id": ["0001"], "recency_days": [1]}), r"repeats feature name\(s\) \['recency_days'\]"),
        ("not a frame", "is not a pandas DataFrame"),
    ],
)
def test_invalid_extra_features(history, frame, message):
    with pytest.raises(AnalyticsInputError, match=message):
        churn.join_extra_features(history.features(CUTOFF), [frame])


def test_invalid_evaluation_arguments(cdnow):
    with pytest.raises(AnalyticsInputError, match="test labels need data up to 1998-09-28"):
        churn.evaluate_churn(cdnow, as_of="1998-06-30", test_cutoff="1998-06-30")
    with pytest.raises(AnalyticsInputError, match="choose train_cutoff <= test_cutoff - horizon_days"):
        churn.evaluate_churn(cdnow, as_of="1998-06-30", train_cutoff="1998-02-01")
    with pytest.raises(AnalyticsInputError, match="horizon_days must be"):
        churn.evaluate_churn(cdnow, as_of="1998-06-30", horizon_days=0)
    with pytest.raises(AnalyticsInputError, match="no purchases on or before 1996-06-30"):
        churn.evaluate_churn(cdnow, as_of="1996-06-30")
    with pytest.raises(AnalyticsInputError, match="missing amount column"):
        churn.evaluate_churn(cdnow.drop(columns="amount"), as_of="1998-06-30")


def test_training_needs_both_classes(history):
    features = history.features(CUTOFF)
    labels = pd.Series(True, index=features.index)
    labels.iloc[:5] = False
    with pytest.raises(AnalyticsInputError, match=r"2352 of 2357 customers churned"):
        churn.fit_churn_model(features, labels, cutoff=CUTOFF, horizon_days=90)
    with pytest.raises(AnalyticsInputError, match="same customers"):
        churn.fit_churn_model(features, labels.iloc[::-1], cutoff=CUTOFF, horizon_days=90)
    with pytest.raises(AnalyticsInputError, match="calibration must be"):
        churn.fit_churn_model(features, labels, cutoff=CUTOFF, horizon_days=90, calibration="beta")  # type: ignore[arg-type]


def test_scoring_needs_the_training_features(cdnow_evaluation, history):
    with pytest.raises(AnalyticsInputError, match=r"missing column\(s\) \['monetary'\]"):
        cdnow_evaluation.model.predict(history.features(CUTOFF).drop(columns="monetary"))


def test_churn_scores_at_as_of(cdnow):
    model, scores = churn.churn_scores(cdnow, as_of="1998-06-30", top=2)
    assert model.cutoff == pd.Timestamp("1998-04-01")  # the latest cutoff whose labels are complete
    assert len(scores) == 2357
    assert list(scores.columns) == ["churn_probability", "reason_1", "contribution_1", "reason_2", "contribution_2"]
    assert scores["churn_probability"].between(0, 1).all()
    assert set(scores["reason_1"].dropna()) <= set(churn.FEATURE_LABELS)
    assert all(label_zh for _, label_zh in churn.FEATURE_LABELS.values())


def test_pipeline_fit_of_bgnbd_baseline_uses_the_training_cutoff(cdnow_evaluation, history):
    summary = history.summary("1998-01-01")
    compressed = summary.groupby(["frequency", "recency", "T"], as_index=False).size()
    fit = btyd.fit_bgnbd(compressed["frequency"], compressed["recency"], compressed["T"], compressed["size"])
    assert btyd.params_dict(cdnow_evaluation.bgnbd.params) == pytest.approx(btyd.params_dict(fit.params))
