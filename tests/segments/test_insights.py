"""Recommendations, needs segments and forecasts computed by scoring, and the pages that show them.

Expected values come from calling the analytics functions on frames the test reads from the ORM itself, not from
numbers copied from our own output.
"""

from datetime import UTC, date, datetime, time, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from django.test import Client

from guanxi import demo
from guanxi.accounts.models import User
from guanxi.analytics import forecast, needs, recommend
from guanxi.analytics.pipeline import run_pipeline
from guanxi.commerce.models import Order, OrderLine
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.segments import selectors, services
from guanxi.segments.models import CustomerScore, ForecastSnapshot, NeedsProfile, Recommendation, ScoreRun

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 23)


@pytest.fixture
def company(db):
    """The demo company with the first 400 CDNOW customers, their orders split into lines over the catalogue."""
    demo.load(seed=11, today=TODAY, limit=400)
    return {u.username: u for u in User.objects.all()}


def _opt_out(company) -> Customer:
    rep = company["rep1"]
    customer = Customer.objects.filter(owner=rep).order_by("id").first()
    customer_services.update_customer(
        actor=rep, customer_id=customer.pk, version=customer.version, data={"profiling_opt_out": True}
    )
    return customer


def _naive_utc(values) -> pd.Series:
    return pd.to_datetime(pd.Series(list(values)), utc=True).dt.tz_localize(None)


def _utc(day: date) -> datetime:
    """Midnight UTC starting ``day``: scoring counts days in UTC."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def _frames(as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(orders, lines) of the profiled customers up to ``as_of``, straight from the ORM."""
    end = _utc(as_of + timedelta(days=1))
    orders = pd.DataFrame(
        Order.objects.filter(customer__profiling_opt_out=False, ordered_at__lt=end)
        .order_by("id")
        .values_list("customer_id", "id", "ordered_at", "amount"),
        columns=["customer_id", "order_id", "ordered_at", "amount"],
    )
    orders["ordered_at"] = _naive_utc(orders["ordered_at"])
    orders["amount"] = orders["amount"].astype(float)
    rows = (
        OrderLine.objects.filter(order__customer__profiling_opt_out=False, order__ordered_at__lt=end)
        .order_by("id")
        .values_list(
            "order__customer_id",
            "order_id",
            "order__ordered_at",
            "product_id",
            "product__category",
            "quantity",
            "unit_price",
        )
    )
    lines = pd.DataFrame(
        [(*row[:5], float(row[5] * row[6])) for row in rows],
        columns=["customer_id", "order_id", "ordered_at", "product_id", "category", "amount"],
    )
    lines["ordered_at"] = _naive_utc(lines["ordered_at"])
    return orders, lines


def test_scoring_stores_what_the_analytics_functions_return_and_skips_opt_outs(company):
    opted = _opt_out(company)
    run = services.score_customers(as_of=TODAY)
    orders, lines = _frames(TODAY)
    assert opted.pk not in set(orders["customer_id"])

    # Recommendations: item-to-item over the same lines, top 5 per customer, and the hit rate on a time split.
    model = recommend.item_similarity(lines)
    expected = recommend.recommend(model, lines, k=5)
    stored = pd.DataFrame(
        Recommendation.objects.values_list("customer_id", "rank", "product_id", "score", "source"),
        columns=["customer_id", "rank", "product_id", "score", "source"],
    )
    merged = expected.merge(stored, on=["customer_id", "rank"], suffixes=("", "_stored"), how="outer")
    assert len(merged) == len(expected) == len(stored) > 0
    assert (merged["product_id"] == merged["product_id_stored"]).all()
    assert (merged["source"] == merged["source_stored"]).all()
    assert np.allclose(merged["score"], merged["score_stored"])
    assert not Recommendation.objects.filter(customer=opted).exists()
    assert Recommendation.objects.filter(source="similar", because_of__isnull=False).exists()
    hit = recommend.evaluate_hit_rate(lines, TODAY - timedelta(days=90), 5, time_col="ordered_at")
    assert run.parameters["recommendations"]["hit_rate"] == pytest.approx(hit.hit_rate)
    assert run.parameters["recommendations"]["popularity_hit_rate"] == pytest.approx(hit.popularity_hit_rate)
    assert run.parameters["recommendations"]["customers"] == hit.customers

    # Needs segments: the same features (category mix from the lines) and the same clustering.
    features = needs.needs_features(
        orders,
        as_of=TODAY,
        date_col="ordered_at",
        order_col="order_id",
        lines=lines,
        lines_amount_col="amount",
        lines_date_col="ordered_at",
    )
    segments = needs.needs_segments(features, seed=0)
    stored_needs = dict(CustomerScore.objects.values_list("customer_id", "needs_segment"))
    assert stored_needs == {int(c): int(s) for c, s in segments.assignments["segment"].items()}
    profiles = NeedsProfile.objects.filter(run=run).order_by("segment")
    assert [p.label_en for p in profiles] == list(segments.profiles["label_en"])
    assert [p.customers for p in profiles] == list(segments.profiles["customers"])
    assert profiles[0].means["basket_size"] == pytest.approx(segments.profiles["basket_size"].iloc[0])

    # Forecast: the pipeline's fits on the same orders, months 1..12, per customer and by region.
    result = run_pipeline(
        ibis.memtable(orders[["customer_id", "ordered_at", "amount"]]),
        as_of=TODAY,
        horizon_days=round(12 * 365.25 / 12),
        unit="D",
        period="D",
        customer_col="customer_id",
        date_col="ordered_at",
        amount_col="amount",
    )
    summary = result.customers[["customer_id", "frequency", "recency", "T", "monetary_value"]]
    fc = forecast.forecast_customers(
        summary, result.bgnbd.params, result.gamma_gamma.params, as_of=TODAY, months=12, unit="D"
    )
    score = CustomerScore.objects.order_by("customer_id").first()
    assert np.allclose(score.forecast_purchases, fc.purchases.loc[score.customer_id].to_numpy(), rtol=1e-6)
    assert np.allclose(score.forecast_revenue, fc.revenue.loc[score.customer_id].to_numpy(), rtol=1e-6)
    regions = pd.DataFrame(Customer.objects.values_list("pk", "region"), columns=["customer_id", "region"])
    by_region = forecast.aggregate_forecast(fc, regions[regions["customer_id"].isin(summary["customer_id"])], "region")
    snaps = {
        (s.group, s.month): (s.purchases, s.revenue, s.customers)
        for s in ForecastSnapshot.objects.filter(run=run, grouping="region")
    }
    assert len(snaps) == len(by_region)
    for row in by_region.itertuples():
        purchases, revenue, customers = snaps[(row.region, row.month)]
        assert purchases == pytest.approx(row.purchases, rel=1e-6)
        assert revenue == pytest.approx(row.revenue, rel=1e-6)
        assert customers == row.customers
    total = ForecastSnapshot.objects.get(run=run, grouping="total", month=1)
    assert total.purchases == pytest.approx(fc.purchases[1].sum(), rel=1e-6)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_panel_and_pages_follow_the_access_policy(company):
    services.score_customers(as_of=TODAY)
    rep, other, analyst = company["rep1"], company["rep3"], company["analyst"]
    customer = (
        Customer.objects.filter(owner=rep, recommendations__source="similar", score__needs_segment__isnull=False)
        .distinct()
        .first()
    )
    first = Recommendation.objects.filter(customer=customer).select_related("product").order_by("rank").first()
    url = f"/customers/{customer.pk}/"

    assert _client(other).get(url).status_code == 404
    page = _client(analyst).get(url)
    assert page.status_code == 200 and 'data-testid="recommendations"' not in page.content.decode()
    page = _client(rep).get(url).content.decode()
    assert 'data-testid="recommendations"' in page and first.product.name in page
    assert "because they bought" in page and 'data-testid="needs-segment"' in page

    # Analysts get the aggregates: needs profiles and hit rate on the analytics page.
    dashboard = _client(analyst).get("/analytics/").content.decode()
    assert 'data-testid="needs-profiles"' in dashboard and 'data-testid="hit-rate"' in dashboard
    assert NeedsProfile.objects.first().label_en in dashboard

    # The forecast page for every grouping and horizon; unrestricted users read the stored totals.
    for user in (analyst, rep):
        client = _client(user)
        for grouping in ("segment", "abc_tier", "industry", "region"):
            for months in (1, 6, 12):
                response = client.get("/analytics/forecast/", {"grouping": grouping, "months": months})
                assert response.status_code == 200
                assert 'data-testid="forecast-table"' in response.content.decode()
    context = selectors.forecast_page(analyst, months=6, grouping="region")
    run = selectors.latest_run()
    stored = ForecastSnapshot.objects.filter(run=run, grouping="total", month__lte=6)
    assert context["total"]["revenue"] == pytest.approx(sum(s.revenue for s in stored))
    # A rep's forecast counts only their own customers, from their per-customer forecasts.
    mine = selectors.forecast_page(rep, months=6, grouping="region")
    own = CustomerScore.objects.filter(customer__in=selectors.visible_scores(rep).values("customer_id"))
    assert mine["total"]["revenue"] == pytest.approx(sum(sum(s.forecast_revenue[:6]) for s in own))
    assert mine["total"]["revenue"] < context["total"]["revenue"]
    assert mine["comparison"] is None and mine["backtest"] is None
    fragment = _client(analyst).get("/analytics/forecast/", {"months": 3}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and 'data-testid="forecast-table"' in fragment.content.decode()
    bad = _client(analyst).get("/analytics/forecast/", {"months": "x", "grouping": "owner"})
    assert bad.status_code == 200


def test_last_periods_forecast_is_compared_with_the_orders_that_followed(company):
    first_as_of = date(2026, 7, 31)
    services.score_customers(as_of=first_as_of)
    page = _client(company["analyst"]).get("/analytics/forecast/").content.decode()
    assert 'data-testid="forecast-vs-actual"' not in page and 'data-testid="forecast-backtest"' in page

    second = services.score_customers(as_of=TODAY)
    page = _client(company["analyst"]).get("/analytics/forecast/").content.decode()
    assert 'data-testid="forecast-vs-actual"' in page
    comparison = selectors.forecast_vs_actual(second)
    assert comparison["run"].as_of == first_as_of
    # Months ending 08-31, 09-30 and 10-31 have ended by 11-23; November has not.
    assert [row["month_end"] for row in comparison["rows"]] == [
        date(2026, 8, 31),
        date(2026, 9, 30),
        date(2026, 10, 31),
    ]
    first_run = ScoreRun.objects.get(as_of=first_as_of)
    known = set(
        Order.objects.filter(ordered_at__lt=_utc(first_as_of + timedelta(days=1)))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    start = first_as_of
    for row in comparison["rows"]:
        orders = Order.objects.filter(
            customer__in=known,
            customer__profiling_opt_out=False,
            ordered_at__gte=_utc(start + timedelta(days=1)),
            ordered_at__lt=_utc(row["month_end"] + timedelta(days=1)),
        )
        actual = sum(float(o.amount) for o in orders)
        assert row["actual_revenue"] == pytest.approx(actual)
        assert row["actual_purchases"] == len({(o.customer_id, o.ordered_at.date()) for o in orders})
        snapshot = ForecastSnapshot.objects.get(run=first_run, grouping="total", month_end=row["month_end"])
        assert row["forecast_revenue"] == snapshot.revenue
        assert row["revenue_error"] == pytest.approx(snapshot.revenue - actual)
        assert f'data-actual-revenue="{actual:.2f}"' in page
        start = row["month_end"]
