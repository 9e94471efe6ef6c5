"""Item-to-item recommendations: similarities against a dense hand computation, a catalogue with planted
co-purchase pairs (recovered, and beating popularity on a time split), recency weighting, and the edge cases
(no history, one item, everything bought, bad input)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from guanxi.analytics import AnalyticsInputError, recommend

START = pd.Timestamp("2024-01-01")
SPLIT = "2024-07-01"
PAIRS, NOISE = 50, 100


def planted_catalogue(n_customers: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Products 2i and 2i+1 (i < 50) are bought together; products 100..199 are bought at random with Zipf
    popularity. Every customer buys one item of one pair early. Even customers buy its partner soon after
    (before SPLIT); odd customers buy the partner only after SPLIT. Three random popular items each."""
    rng = np.random.default_rng(seed)
    customers = np.arange(n_customers)
    first = 2 * rng.integers(0, PAIRS, n_customers) + rng.integers(0, 2, n_customers)
    first_day = rng.integers(0, 150, n_customers)
    partner_day = np.where(
        customers % 2 == 0, first_day + rng.integers(1, 30, n_customers), 200 + rng.integers(0, 60, n_customers)
    )
    weights = 1 / np.arange(1, NOISE + 1)
    noise_customers = rng.integers(0, n_customers, 3 * n_customers)
    frames = [
        pd.DataFrame({"customer_id": customers, "product_id": first, "day": first_day}),
        pd.DataFrame({"customer_id": customers, "product_id": first ^ 1, "day": partner_day}),
        pd.DataFrame(
            {
                "customer_id": noise_customers,
                "product_id": 2 * PAIRS + rng.choice(NOISE, noise_customers.size, p=weights / weights.sum()),
                "day": rng.integers(0, 260, noise_customers.size),
            }
        ),
    ]
    lines = pd.concat(frames, ignore_index=True)
    lines["purchased_at"] = START + pd.to_timedelta(lines.pop("day"), unit="D")
    return lines


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return planted_catalogue()


# --- similarity by hand ------------------------------------------------------------------------------------------

TINY = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "b", "b", "c", "d", "d", "a"],
        "product_id": ["x", "y", "x", "y", "z", "x", "z", "w", "x"],  # a bought x twice: still one
    }
)


def dense_similarity(method: str) -> np.ndarray:
    items = ["w", "x", "y", "z"]
    X = np.array([[0, 1, 1, 0], [0, 1, 1, 1], [0, 1, 0, 0], [1, 0, 0, 1]], dtype=float)  # a, b, c, d
    C = X.T @ X
    n = np.diag(C)
    S = C / np.sqrt(np.outer(n, n)) if method == "cosine" else C * X.shape[0] / np.outer(n, n)
    np.fill_diagonal(S, 0)
    assert items == sorted(items)
    return S


@pytest.mark.parametrize("method", ["cosine", "lift"])
def test_similarity_matches_a_dense_computation(method):
    model = recommend.item_similarity(TINY, similarity=method)
    assert model.items.tolist() == ["w", "x", "y", "z"]
    np.testing.assert_allclose(model.similarity.toarray(), dense_similarity(method))
    assert model.popularity.tolist() == [1, 3, 2, 2]


def test_neighbours_keeps_the_most_similar_items_per_row():
    model = recommend.item_similarity(TINY, neighbours=1)
    dense = dense_similarity("cosine")
    kept = model.similarity.toarray()
    assert (np.count_nonzero(kept, axis=1) == 1).all()
    assert kept.argmax(axis=1).tolist() == dense.argmax(axis=1).tolist()


def test_top_entries_agree_with_brute_force_including_ties():
    rng = np.random.default_rng(4)
    matrix = sp.random(300, 80, density=0.2, random_state=5, format="csr")
    matrix.data = np.round(matrix.data * 4) / 4 + 0.25  # many ties
    rows, cols, _ = recommend._top_entries(matrix, 5)
    dense = matrix.toarray()
    for r in rng.choice(300, 40, replace=False):
        nonzero = np.flatnonzero(dense[r])
        expected = sorted(nonzero, key=lambda c: (-dense[r, c], c))[:5]
        assert cols[rows == r].tolist() == expected


def test_order_basis_uses_baskets_not_customers():
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b"],
            "order_id": [1, 1, 2, 3, 3],
            "product_id": ["x", "y", "z", "x", "y"],
        }
    )
    by_customer = recommend.item_similarity(lines).similarity.toarray()
    by_order = recommend.item_similarity(lines, basis="order", order_col="order_id").similarity.toarray()
    assert by_customer[0, 2] > 0  # x and z: same customer
    assert by_order[0, 2] == 0  # never in one basket
    assert by_order[0, 1] == pytest.approx(1.0)


# --- planted co-purchase structure -------------------------------------------------------------------------------


def test_planted_pairs_are_each_others_nearest_neighbours(planted):
    model = recommend.item_similarity(planted[planted["purchased_at"] < SPLIT])
    pair_items = np.arange(2 * PAIRS)
    nearest = np.asarray(model.similarity[pair_items].argmax(axis=1)).ravel()
    assert (model.items[nearest] == (pair_items ^ 1)).mean() > 0.95


def test_recommendations_recover_the_partner(planted):
    train = planted[planted["purchased_at"] < SPLIT]
    model = recommend.item_similarity(train)
    waiting = planted[(planted["customer_id"] % 2 == 1) & (planted["product_id"] < 2 * PAIRS)]
    firsts = waiting.sort_values("purchased_at").drop_duplicates("customer_id")
    recs = recommend.recommend(model, train, k=3, customers=firsts["customer_id"])
    top = recs[recs["rank"] == 1].set_index("customer_id")
    assert (
        top.loc[firsts["customer_id"], "product_id"].to_numpy() == (firsts["product_id"].to_numpy() ^ 1)
    ).mean() > 0.95
    assert (recs["source"] == "similar").all()
    assert recs.groupby("customer_id")["rank"].apply(list).map(lambda r: r == [1, 2, 3]).all()


def test_hit_rate_beats_popularity_on_a_time_split(planted):
    result = recommend.evaluate_hit_rate(planted, SPLIT, k=5)
    print(
        f"\nplanted catalogue hit rate@5: item-to-item {result.hit_rate:.3f}, popularity"
        f" {result.popularity_hit_rate:.3f} ({result.customers} customers)"
    )
    # Odd customers (half) wait for a partner the model knows; their next new item is the partner or a noise item.
    assert result.hit_rate > 0.5
    assert result.hit_rate > result.popularity_hit_rate + 0.25
    assert result.customers_with_history == result.customers


def test_hit_rate_targets_the_first_new_purchase_after_the_split():
    rows = [
        # before the split: x and y go together (b, c); p is the most popular item (d, e, f)
        ("a", "x", "2024-01-01"),
        ("b", "x", "2024-01-01"),
        ("b", "y", "2024-01-02"),
        ("c", "x", "2024-01-03"),
        ("c", "y", "2024-01-04"),
        ("d", "p", "2024-01-05"),
        ("e", "p", "2024-01-05"),
        ("f", "p", "2024-01-05"),
        # after: a re-buys x (not new), then y (its target: a hit for item-to-item, popularity offers p);
        # b's first new product w was never sold before (nobody can hit it); c buys nothing new.
        ("a", "x", "2024-02-02"),
        ("a", "y", "2024-02-05"),
        ("a", "p", "2024-02-06"),
        ("b", "w", "2024-02-03"),
        ("c", "y", "2024-02-04"),
    ]
    lines = pd.DataFrame(rows, columns=["customer_id", "product_id", "purchased_at"])
    result = recommend.evaluate_hit_rate(lines, "2024-02-01", k=1)
    assert result.customers == 2
    assert result.hit_rate == 0.5
    assert result.popularity_hit_rate == 0.0


# --- recency weighting and edge cases ----------------------------------------------------------------------------


def test_recency_weighting_prefers_the_partner_of_the_recent_purchase():
    pairs = pd.DataFrame(
        {
            # A-A2 co-bought by 4 customers, B-B2 by 3: unweighted, A2 is the stronger suggestion.
            "customer_id": ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4", "q1", "q1", "q2", "q2", "q3", "q3"],
            "product_id": ["A", "A2", "A", "A2", "A", "A2", "A", "A2", "B", "B2", "B", "B2", "B", "B2"],
            "purchased_at": pd.Timestamp("2024-01-01"),
        }
    )
    history = pd.DataFrame(
        {
            "customer_id": ["z", "z"],
            "product_id": ["A", "B"],
            "purchased_at": pd.to_datetime(["2023-01-01", "2024-06-01"]),
        }
    )
    model = recommend.item_similarity(pairs)
    plain = recommend.recommend(model, history, k=1)
    recent = recommend.recommend(model, history, k=1, time_col="purchased_at", half_life_days=30, as_of="2024-06-30")
    assert plain["product_id"].tolist() == ["A2"]
    assert recent["product_id"].tolist() == ["B2"]


def test_customers_without_history_get_the_most_popular_items(planted):
    model = recommend.item_similarity(planted)
    recs = recommend.recommend(model, planted.head(0), k=4, customers=["new customer"])
    expected = model.items[np.argsort(-model.popularity, kind="stable")[:4]].tolist()
    assert recs["product_id"].tolist() == expected
    assert (recs["source"] == "popular").all()
    assert recs["score"].is_monotonic_decreasing


def test_too_few_similar_items_are_filled_with_unseen_popular_ones():
    model = recommend.item_similarity(TINY)
    recs = recommend.recommend(model, TINY, k=3, customers=["c"])  # c bought x; similar: y, z; then w
    assert recs["product_id"].tolist() == ["y", "z", "w"]
    assert recs["source"].tolist() == ["similar", "similar", "popular"]


def test_one_item_catalogue_and_customers_who_bought_everything():
    one = pd.DataFrame({"customer_id": ["a", "b"], "product_id": ["only", "only"]})
    model = recommend.item_similarity(one)
    assert model.similarity.nnz == 0
    recs = recommend.recommend(model, one, k=3, customers=["a", "newcomer"])
    assert recs["customer_id"].tolist() == ["newcomer"]  # a has bought the whole catalogue
    assert recs["product_id"].tolist() == ["only"]
    everything = recommend.recommend(recommend.item_similarity(TINY), TINY, k=10, customers=["b"])
    assert sorted(everything["product_id"]) == ["w"]  # b bought x, y, z: only w is left


def test_invalid_input():
    with pytest.raises(AnalyticsInputError, match="missing product column 'product_id'"):
        recommend.item_similarity(TINY.rename(columns={"product_id": "sku"}))
    with pytest.raises(AnalyticsInputError, match="no customer id"):
        recommend.item_similarity(pd.DataFrame({"customer_id": [None, "a"], "product_id": ["x", "y"]}))
    with pytest.raises(AnalyticsInputError, match="basis='order' needs order_col"):
        recommend.item_similarity(TINY, basis="order")
    with pytest.raises(AnalyticsInputError, match="there are no rows"):
        recommend.item_similarity(TINY.head(0))
    model = recommend.item_similarity(TINY)
    with pytest.raises(AnalyticsInputError, match="k must be"):
        recommend.recommend(model, TINY, k=0)
    with pytest.raises(AnalyticsInputError, match="needs time_col"):
        recommend.recommend(model, TINY, half_life_days=10)
    dated = TINY.assign(purchased_at=["2024-01-01"] * 8 + ["someday"])
    with pytest.raises(AnalyticsInputError, match="unparseable date"):
        recommend.evaluate_hit_rate(dated, "2024-02-01")
    with pytest.raises(AnalyticsInputError, match="leaves no lines"):
        recommend.evaluate_hit_rate(TINY.assign(purchased_at="2024-01-01"), "2024-02-01")
