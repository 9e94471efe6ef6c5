"""Funnel, win rate, sales cycle, lost reasons and forecast, on a small history written with a controlled clock.

Expected figures are counted by hand from the scenario below, not taken from the code.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from guanxi.deals import analytics, services


@pytest.fixture
def history(users, make_customer, stages, reason, pipeline):
    """Five deals of rep (team A) and one of rep_b (team B), created 2026-01-05:

    - d1: qualification -> proposal -> won on 2026-01-15 (10 days); value 1000
    - d2: qualification -> needs_analysis -> proposal -> negotiation -> won on 2026-01-25 (20 days); value 3000
    - d3: qualification -> lost (price) on 2026-01-10
    - d4: qualification -> needs_analysis -> lost (competitor) on 2026-01-12
    - d5: qualification -> negotiation (open), value 2000, closes 2026-03-10 -> weighted 1500
    - d6 (rep_b): qualification (open), value 400 USD, closes 2026-03-20; another currency
    """
    from guanxi.deals.models import LostReason

    competitor = LostReason.objects.get(key="competitor")
    rep, rep_b = users["rep"], users["rep_b"]
    customer, customer_b = make_customer(rep), make_customer(rep_b)

    def move(deal, key, when, **kw):
        with time_machine.travel(when, tick=False):
            fresh = type(deal).objects.get(pk=deal.pk)
            return services.move_deal(
                actor=fresh.owner, deal_id=deal.pk, stage_id=stages[key].pk, version=fresh.version, **kw
            )

    with time_machine.travel(datetime(2026, 1, 5, 9, tzinfo=UTC), tick=False):
        d = {
            n: services.create_deal(
                actor=rep, data={"customer_id": customer.pk, "title": f"d{n}", "value": v, "expected_close": c}
            )
            for n, v, c in [
                (1, "1000", None),
                (2, "3000", None),
                (3, "700", None),
                (4, "900", None),
                (5, "2000", date(2026, 3, 10)),
            ]
        }
        d[6] = services.create_deal(
            actor=rep_b,
            data={
                "customer_id": customer_b.pk,
                "title": "d6",
                "value": "400",
                "currency": "USD",
                "expected_close": date(2026, 3, 20),
            },
        )
    move(d[1], "proposal", datetime(2026, 1, 8, 9, tzinfo=UTC))
    move(d[1], "won", datetime(2026, 1, 15, 9, tzinfo=UTC))
    for key, day in [("needs_analysis", 6), ("proposal", 9), ("negotiation", 12), ("won", 25)]:
        move(d[2], key, datetime(2026, 1, day, 9, tzinfo=UTC))
    move(d[3], "lost", datetime(2026, 1, 10, 9, tzinfo=UTC), lost_reason_id=reason.pk)
    move(d[4], "needs_analysis", datetime(2026, 1, 7, 9, tzinfo=UTC))
    move(d[4], "lost", datetime(2026, 1, 12, 9, tzinfo=UTC), lost_reason_id=competitor.pk)
    move(d[5], "negotiation", datetime(2026, 1, 20, 9, tzinfo=UTC))
    return d


def test_funnel_counts_deals_that_reached_each_stage(users, history, pipeline):
    report = analytics.report(users["admin"], pipeline=pipeline, currency="CNY")
    reached = {step.stage.key: step.reached for step in report.funnel}
    # All six entered qualification; needs analysis: d2, d4 and (skipped past it) d1, d5; proposal: d1, d2, d5;
    # negotiation: d2, d5 and d1 (won straight from proposal); won: d1, d2. Lost is not a funnel step.
    assert reached == {"qualification": 6, "needs_analysis": 4, "proposal": 3, "negotiation": 3, "won": 2}
    conversion = {step.stage.key: step.conversion for step in report.funnel}
    assert conversion["qualification"] == pytest.approx(4 / 6)
    assert conversion["negotiation"] == pytest.approx(2 / 3)
    assert conversion["won"] is None


def test_win_rate_cycle_and_lost_reasons(users, history, pipeline):
    report = analytics.report(users["admin"], pipeline=pipeline, currency="CNY")
    assert (report.won, report.lost) == (2, 2)
    assert report.win_rate == pytest.approx(0.5)
    assert report.cycle_mean_days == 15.0 and report.cycle_median_days == 15.0
    assert report.won_value == Decimal("4000.00")
    assert [(r["key"], r["count"], r["value"]) for r in report.lost_reasons] == [
        ("competitor", 1, Decimal("900.00")),
        ("price", 1, Decimal("700.00")),
    ]


def test_period_limits_closed_deals(users, history, pipeline):
    report = analytics.report(
        users["admin"],
        pipeline=pipeline,
        since=datetime(2026, 1, 11, tzinfo=UTC),
        until=datetime(2026, 1, 20, tzinfo=UTC),
    )
    # Closed between Jan 11 and Jan 20: d1 won (15th), d4 lost (12th).
    assert (report.won, report.lost) == (1, 1)
    # No deal was created in that window.
    assert all(step.reached == 0 for step in report.funnel)


def test_forecast_per_rep_and_team_in_one_currency(users, history, pipeline):
    cny = analytics.report(users["admin"], pipeline=pipeline, currency="CNY")
    assert [(r["month"], r["name"], r["weighted"]) for r in cny.forecast_by_owner] == [
        (date(2026, 3, 1), "rep", Decimal("1500.00"))
    ]
    assert [(r["name"], r["weighted"]) for r in cny.forecast_by_team] == [("Team A", Decimal("1500.00"))]
    usd = analytics.report(users["admin"], pipeline=pipeline, currency="USD")
    assert [(r["name"], r["weighted"]) for r in usd.forecast_by_owner] == [("rep_b", Decimal("40.00"))]


def test_scope_rep_sees_own_manager_team_analyst_all(users, history, pipeline):
    def won_lost(user):
        r = analytics.report(user, pipeline=pipeline)
        return r.won, r.lost, r.funnel[0].reached

    assert won_lost(users["rep"]) == (2, 2, 5)
    assert won_lost(users["rep2"]) == (0, 0, 0)
    assert won_lost(users["manager"]) == (2, 2, 5)
    assert won_lost(users["analyst"]) == (2, 2, 6)
