"""Scoring inside the CRM: the analytics pipeline over the orders in the database, written back to customers."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from guanxi import demo
from guanxi.accounts.models import User
from guanxi.commerce.models import Order
from guanxi.core.models import Event
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.segments import services
from guanxi.segments.errors import NothingToScore
from guanxi.segments.models import CustomerScore, CustomerScoreHistory, ScoreRun

TODAY = date(2026, 11, 23)
GUANXI = str(Path(sys.executable).with_name("guanxi"))


@pytest.fixture
def company(db):
    """The demo company with the first 600 CDNOW customers' purchase histories."""
    demo.load(seed=11, today=TODAY, limit=600)
    return {u.username: u for u in User.objects.all()}


def test_nothing_to_score_is_a_clear_error_and_a_failed_run(db):
    with pytest.raises(NothingToScore):
        services.score_customers(as_of=TODAY)
    run = ScoreRun.objects.get()
    assert run.status == ScoreRun.Status.FAILED and "NothingToScore" in run.error


@pytest.mark.slow
def test_scores_every_profiled_customer_and_skips_opted_out_and_deleted(company):
    rep = company["rep1"]
    opted, deleted = Customer.objects.filter(owner=rep).order_by("id")[:2]
    customer_services.update_customer(actor=rep, customer_id=opted.pk, version=1, data={"profiling_opt_out": True})
    customer_services.delete_customer(actor=rep, customer_id=deleted.pk)

    run = services.score_customers(as_of=TODAY)

    expected = set(Order.objects.exclude(customer__in=[opted, deleted]).values_list("customer_id", flat=True))
    assert set(CustomerScore.objects.values_list("customer_id", flat=True)) == expected
    assert run.status == ScoreRun.Status.SUCCEEDED and run.customers_scored == len(expected)
    assert run.customers_skipped == 1
    assert {"r", "alpha", "a", "b"} <= set(run.parameters["bgnbd"]) and {"p", "q", "v"} <= set(
        run.parameters["gamma_gamma"]
    )
    assert sum(run.segment_counts.values()) == len(expected) == sum(run.tier_counts["abc"].values())
    assert sum(run.tier_counts["value"].values()) == len(expected)
    scores = list(CustomerScore.objects.all())
    assert all(0 <= s.p_alive <= 1 and s.clv >= 0 and s.expected_purchases_90d >= 0 for s in scores)
    assert all(s.abc_tier in "ABC" and 1 <= s.rfm_r <= 5 for s in scores)
    # The churn classifier scores everyone; the likely churners get their main reasons.
    assert all(s.churn_risk is not None and 0 <= s.churn_risk <= 1 for s in scores)
    from guanxi.analytics.churn import FEATURE_LABELS

    # Reasons are computed for likely churners only (risk >= 0.5), and name known features.
    assert all(s.churn_risk >= 0.5 for s in scores if s.churn_reasons)
    assert all(set(s.churn_reasons) <= set(FEATURE_LABELS) for s in scores)
    assert sum(bool(s.churn_reasons) for s in scores if s.churn_risk >= 0.5) > 0
    assert len({round(s.churn_risk, 6) for s in scores}) > 10  # risk differs between customers
    # Every customer's first scores are a change from nothing: one segment and one tier event each.
    assert Event.objects.filter(type="customer.segment_changed").count() == len(expected)
    assert Event.objects.filter(type="customer.tier_changed").count() == len(expected)


@pytest.mark.slow
def test_a_second_run_over_the_same_data_changes_nothing_but_history(company):
    services.score_customers(as_of=TODAY)
    first = {s.customer_id: (s.segment, s.abc_tier, round(s.p_alive, 9), s.clv) for s in CustomerScore.objects.all()}
    events = Event.objects.filter(type__in=["customer.segment_changed", "customer.tier_changed"]).count()
    services.score_customers(as_of=TODAY)
    second = {s.customer_id: (s.segment, s.abc_tier, round(s.p_alive, 9), s.clv) for s in CustomerScore.objects.all()}
    assert second == first
    assert Event.objects.filter(type__in=["customer.segment_changed", "customer.tier_changed"]).count() == events
    assert CustomerScoreHistory.objects.count() == 2 * len(first)


@pytest.mark.slow
def test_opting_out_later_removes_existing_scores(company):
    services.score_customers(as_of=TODAY)
    customer = CustomerScore.objects.select_related("customer").first().customer
    owner = customer.owner or company["admin"]
    customer_services.update_customer(
        actor=owner if owner.role == "sales" else company["admin"],
        customer_id=customer.pk,
        version=customer.version,
        data={"profiling_opt_out": True},
    )
    services.score_customers(as_of=TODAY)
    assert not CustomerScore.objects.filter(customer=customer).exists()


@pytest.mark.slow
def test_scores_are_scoped_like_customers(company, api):
    services.score_customers(as_of=TODAY)
    rep, other = company["rep1"], company["rep3"]
    mine = set(Customer.objects.filter(owner=rep).values_list("pk", flat=True)) | set(
        Customer.objects.filter(shares__user=rep).values_list("pk", flat=True)
    )
    listed = api(rep).get("/api/v1/scores", {"limit": 200}).json()
    assert listed["total"] == CustomerScore.objects.filter(customer__in=mine).count()
    assert {item["customer_id"] for item in listed["items"]} <= mine
    theirs = CustomerScore.objects.filter(customer__owner=other).first()
    assert api(rep).get(f"/api/v1/scores/{theirs.customer_id}").status_code == 404
    assert api(company["analyst"]).get("/api/v1/scores").json()["total"] == CustomerScore.objects.count()

    client = Client()
    client.force_login(company["analyst"])
    page = client.get("/analytics/").content.decode()
    assert 'data-testid="at-risk"' not in page  # analysts see aggregates, no named customers
    assert 'data-testid="cohorts"' in page
    client.force_login(rep)
    page = client.get("/analytics/").content.decode()
    assert 'data-testid="score-run"' in page and 'data-testid="at-risk"' in page
    detail = client.get(f"/customers/{next(iter(mine))}/").content.decode()
    assert 'data-testid="scores"' in detail or "Not scored yet" in detail
    risky = CustomerScore.objects.filter(customer__owner=rep, churn_risk__gte=0.5).exclude(churn_reasons=[]).first()
    page = client.get(f"/customers/{risky.customer_id}/").content.decode()
    assert 'data-testid="churn-reasons"' in page and "recency_days" not in page


@pytest.mark.slow
def test_scoring_writes_back_what_guanxi_analyze_reports(company, tmp_path):
    """The CRM's scores and `guanxi analyze` on an export of the same orders agree (same pipeline, same data)."""
    from guanxi.analytics.clv import monthly_rate

    run = services.score_customers(as_of=TODAY)
    export = tmp_path / "orders.csv"
    rows = Order.objects.filter(customer__deleted_at__isnull=True).values_list("customer_id", "ordered_at", "amount")
    export.write_text("customer_id,ordered_at,amount\n" + "".join(f"{c},{t.isoformat()},{a}\n" for c, t, a in rows))
    settings = services.ScoringSettings()
    result = subprocess.run(
        [
            GUANXI,
            "analyze",
            str(export),
            "--customer-col",
            "customer_id",
            "--date-col",
            "ordered_at",
            "--amount-col",
            "amount",
            "--as-of",
            TODAY.isoformat(),
            "--unit",
            "day",
            "--horizon-days",
            str(run.parameters["horizon_days"]),
            "--discount-rate",
            str(monthly_rate(settings.annual_discount_rate)),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["customers"] == run.customers_scored
    for model, names in (("bgnbd", ("r", "alpha", "a", "b")), ("gamma_gamma", ("p", "q", "v"))):
        for name in names:
            assert run.parameters[model][name] == pytest.approx(report[model][name], rel=1e-6), (model, name)
    assert report["segments"] == run.segment_counts
    assert report["tiers"] == run.tier_counts
    stored = {s.customer_id: float(s.clv) for s in CustomerScore.objects.all()}
    # Stored CLVs are rounded to cents: at most half a cent per customer apart from the report's total.
    assert abs(sum(stored.values()) - report["totals"]["clv"]) <= 0.005 * len(stored)


def test_analytics_over_the_database_see_only_the_callers_customers(company):
    from guanxi.segments.selectors import orders_table

    rep = company["rep1"]
    visible = Customer.objects.filter(owner=rep) | Customer.objects.filter(shares__user=rep)
    mine = Order.objects.filter(customer__in=visible.distinct()).count()
    assert orders_table(TODAY, rep).count().execute() == mine < Order.objects.count()
    assert orders_table(TODAY, company["analyst"]).count().execute() == Order.objects.count()
    assert orders_table(TODAY).count().execute() == Order.objects.count()
