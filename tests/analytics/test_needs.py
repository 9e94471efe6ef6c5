"""Needs-based segments: planted behaviour groups recovered and named after what distinguishes them, the label
templates, the features on hand-checkable data, and input errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from guanxi.analytics import AnalyticsInputError, needs

AS_OF = pd.Timestamp("2024-12-31")
CATEGORIES = np.array(["books", "music", "games", "toys"])
# Planted groups: purchases per 30 days, mean order amount, discount share, category probabilities.
GROUPS = {
    "bargain hunters": (8.0, 20.0, 0.4, [0.25, 0.25, 0.25, 0.25]),
    "big spenders": (0.5, 300.0, 0.0, [0.25, 0.25, 0.25, 0.25]),
    "readers": (2.0, 60.0, 0.05, [0.85, 0.05, 0.05, 0.05]),
    "everyone else": (2.0, 60.0, 0.05, [0.25, 0.25, 0.25, 0.25]),
}


def planted_customers(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Transactions (with a discount column) and category lines of n customers in the four GROUPS."""
    rng = np.random.default_rng(seed)
    rate, basket, discount, mix = (np.array(v) for v in zip(*GROUPS.values(), strict=True))
    group = rng.integers(0, len(GROUPS), n)
    counts = np.maximum(1, rng.poisson(rate[group] / 30 * 730))
    customer = np.repeat(np.arange(n), counts)
    g = group[customer]
    amount = rng.gamma(4.0, basket[g] / 4.0)
    discounted = rng.random(customer.size) < 0.9
    off = amount * discount[g] / (1 - discount[g]) * rng.uniform(0.5, 1.5, customer.size) * discounted
    transactions = pd.DataFrame(
        {
            "customer_id": customer,
            "purchased_at": AS_OF - pd.to_timedelta(rng.integers(0, 730, customer.size), unit="D"),
            "amount": amount,
            "discount": off,
        }
    )
    category = (rng.random(customer.size)[:, None] > np.cumsum(mix[g], axis=1)).sum(axis=1)
    lines = pd.DataFrame({"customer_id": customer, "category": CATEGORIES[category], "amount": amount})
    return transactions, lines, group


@pytest.fixture(scope="module")
def planted():
    transactions, lines, group = planted_customers(3000, seed=1)
    features = needs.needs_features(
        transactions, as_of=AS_OF, discount_col="discount", lines=lines, lines_amount_col="amount"
    )
    return features, needs.needs_segments(features, seed=0), group[features.index.to_numpy()]


def segment_of(result, group: np.ndarray, name: str) -> pd.Series:
    """The profile of the segment holding most of the planted group ``name``."""
    members = result.assignments["segment"].to_numpy()[group == list(GROUPS).index(name)]
    return result.profiles.loc[np.bincount(members).argmax()]


# --- planted groups ----------------------------------------------------------------------------------------------


def test_planted_groups_are_recovered(planted):
    _, result, group = planted
    ari = adjusted_rand_score(group, result.assignments["segment"])
    print(f"\nneeds segments: k = {result.k}, adjusted Rand index {ari:.3f}, silhouettes {result.silhouette}")
    assert result.k == 4
    assert max(result.silhouette, key=result.silhouette.get) == 4
    assert ari > 0.9
    assert result.profiles["customers"].is_monotonic_decreasing  # numbered by size
    assert result.profiles["share"].sum() == pytest.approx(1.0)


def test_labels_name_what_was_planted(planted):
    _, result, group = planted
    bargain = segment_of(result, group, "bargain hunters")
    assert "price-sensitive" in bargain["label_en"] and "frequent" in bargain["label_en"]
    assert "价格敏感" in bargain["label_zh"] and "高频" in bargain["label_zh"]
    spenders = segment_of(result, group, "big spenders")
    assert "big-basket" in spenders["label_en"] and "occasional" in spenders["label_en"]
    assert "大额订单" in spenders["label_zh"] and "低频" in spenders["label_zh"]
    readers = segment_of(result, group, "readers")
    assert "books-focused" in readers["label_en"] and "偏好books" in readers["label_zh"]
    assert "price-sensitive" not in readers["label_en"] and "big-basket" not in readers["label_en"]
    assert result.profiles["label_en"].is_unique and result.profiles["label_zh"].is_unique
    # z-scores are the segment means of the standardised features: big spenders sit far above on basket size.
    assert spenders["z_basket_size"] > 1.0 and bargain["z_discount_share"] > 1.0


def test_segments_are_deterministic_for_a_seed(planted):
    features, result, _ = planted
    again = needs.needs_segments(features, seed=0)
    pd.testing.assert_frame_equal(again.assignments, result.assignments)
    fixed = needs.needs_segments(features, k=3, seed=0)
    assert fixed.k == 3 and fixed.silhouette == {}


def test_large_bases_use_mini_batch_kmeans_and_still_recover_the_groups(planted):
    features, _, group = planted
    # 60,000 customers (above the 50,000 where mini-batch k-means takes over): the planted customers resampled,
    # each feature jittered by 5% so that no two rows are identical.
    rng = np.random.default_rng(5)
    rows = rng.integers(0, len(features), 60_000)
    large = features.iloc[rows] * rng.normal(1.0, 0.05, size=(60_000, features.shape[1]))
    result = needs.needs_segments(large.reset_index(drop=True), k=4, seed=0)
    assert adjusted_rand_score(group[rows], result.assignments["segment"]) > 0.9


# --- label templates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("z", "english", "chinese"),
    [
        (
            {"discount_share": 1.2, "frequency_per_month": 0.9, "purchase_interval_days": -0.8, "basket_size": 0.1},
            "price-sensitive frequent buyers",
            "价格敏感的高频买家",
        ),
        (
            {"basket_size": 1.5, "discount_share": -0.7, "frequency_per_month": -0.6, "purchase_interval_days": 0.9},
            "big-basket, full-price occasional buyers",
            "大额订单、偏好原价的低频买家",
        ),
        (
            {"basket_size": -0.6, "frequency_per_month": 0.2, "category_books": 0.9},
            "books-focused, small-basket buyers",
            "偏好books、小额订单的买家",
        ),
        ({"frequency_per_month": 0.7, "purchase_interval_days": 0.1}, "frequent buyers", "高频买家"),
        ({"basket_size": 0.3, "category_other": 2.0, "category_toys": -1.5}, "typical buyers", "普通买家"),
    ],
    ids=["price-frequent", "big-full-price-occasional", "category", "pace-only", "nothing-distinctive"],
)
def test_label_templates(z, english, chinese):
    labels = needs.segment_labels(pd.DataFrame([z]))
    assert labels.loc[0].tolist() == [english, chinese]


def test_identical_labels_get_another_descriptor_then_a_number():
    z = pd.DataFrame(
        [
            {"discount_share": 1.0, "basket_size": 0.3, "frequency_per_month": 0.0},
            {"discount_share": 1.0, "basket_size": -0.3, "frequency_per_month": 0.0},
            {"discount_share": 1.0, "basket_size": -0.35, "frequency_per_month": 0.0},
        ]
    )
    labels = needs.segment_labels(z)
    assert labels["label_en"].tolist() == [
        "price-sensitive, big-basket buyers",
        "price-sensitive, small-basket buyers (1)",
        "price-sensitive, small-basket buyers (2)",
    ]
    assert labels["label_zh"].tolist()[1:] == ["价格敏感、小额订单的买家（1）", "价格敏感、小额订单的买家（2）"]


# --- features by hand --------------------------------------------------------------------------------------------


def test_features_by_hand():
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "order": [1, 1, 2, 3, 4, 5],
            "purchased_at": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-11", "2024-01-31", "2024-01-21", "2024-12-31"]
            ),
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "discount": [0.0, 10.0, 0.0, 0.0, 0.0, 20.0],
        }
    )
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "category": ["books", "books", "music", "toys"],
            "amount": [30.0, 30.0, 40.0, 50.0],
        }
    )
    features = needs.needs_features(
        transactions,
        as_of="2024-01-31",
        order_col="order",
        discount_col="discount",
        lines=lines,
        lines_amount_col="amount",
        max_categories=2,
    )
    assert features.index.tolist() == ["a", "b"]  # c bought after as_of
    a, b = features.loc["a"], features.loc["b"]
    assert a["basket_size"] == pytest.approx((30 + 30 + 40) / 3)  # order 1 is two rows
    assert a["purchase_interval_days"] == pytest.approx(15.0)  # days 1, 11, 31
    assert a["frequency_per_month"] == pytest.approx(3 * needs.DAYS_PER_MONTH / 31)  # 3 purchases in 31 days
    assert a["discount_share"] == pytest.approx(10 / 110)
    assert b["purchase_interval_days"] == 10.0  # one purchase, 10 days ago: a lower bound
    assert b["frequency_per_month"] == pytest.approx(1.0)  # the month floor: not 3 a month
    # The two largest categories by spend are books (60) and toys (50); music goes to "other".
    assert a[["category_books", "category_toys", "category_other"]].tolist() == pytest.approx([0.6, 0.0, 0.4])
    assert b[["category_books", "category_toys", "category_other"]].tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_boolean_discounts_and_customers_without_lines():
    transactions = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "purchased_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [1.0, 1.0, 1.0],
            "promo": [True, False, False],
        }
    )
    lines = pd.DataFrame({"customer_id": ["a"], "category": ["books"]})
    features = needs.needs_features(transactions, as_of="2024-01-31", discount_col="promo", lines=lines)
    assert features["discount_share"].tolist() == [0.5, 0.0]
    assert features["category_books"].tolist() == [1.0, 1.0]  # b has no lines: the population's mean shares


# --- input errors ------------------------------------------------------------------------------------------------


def test_invalid_input(planted):
    features, _, _ = planted
    with pytest.raises(AnalyticsInputError, match="no customers"):
        needs.needs_segments(features.head(0))
    with pytest.raises(AnalyticsInputError, match="non-numeric"):
        needs.needs_segments(features.assign(region="north"))
    with pytest.raises(AnalyticsInputError, match="missing or infinite"):
        needs.needs_segments(features.assign(basket_size=np.nan))
    with pytest.raises(AnalyticsInputError, match="k must be"):
        needs.needs_segments(features, k=1)
    with pytest.raises(AnalyticsInputError, match="too few"):
        needs.needs_segments(features.head(2))
    transactions = pd.DataFrame(
        {"customer_id": ["a"], "purchased_at": ["2024-01-01"], "amount": [5.0], "discount": [-1.0]}
    )
    with pytest.raises(AnalyticsInputError, match="must hold amounts >= 0"):
        needs.needs_features(transactions, as_of="2024-01-31", discount_col="discount")
    with pytest.raises(AnalyticsInputError, match="missing discount column 'rebate'"):
        needs.needs_features(transactions, as_of="2024-01-31", discount_col="rebate")
    with pytest.raises(AnalyticsInputError, match="no purchases on or before 2023-12-31"):
        needs.needs_features(transactions.drop(columns="discount"), as_of="2023-12-31")
    with pytest.raises(AnalyticsInputError, match="missing category column"):
        needs.needs_features(
            transactions.drop(columns="discount"), as_of="2024-01-31", lines=pd.DataFrame({"customer_id": ["a"]})
        )
