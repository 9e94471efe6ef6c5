"""Lifecycle stages on PostgreSQL: the nightly evaluation over N customers (issue 5; goal: 1,000,000 in < 60 s).

    .venv/bin/python bench/bench_lifecycle.py [--n 1000000] [--url postgres://postgres@127.0.0.1:5432]

Creates its own database (``guanxi_bench_lifecycle``, dropped first), migrates it, and generates in SQL
(INSERT ... SELECT generate_series): N customers (1 in 50 opted out of profiling), 0 to 6 orders each
(customer id mod 7: one in seven has none) spread over the last 800 days (about 3 N orders), and a score row
for every customer with orders (p_alive uniform in 0..1, a tenth of them tier A). Then times
``lifecycle.services.evaluate_stages``, the nightly job's body, with the default stage definitions:

1. the first run: every customer gets their first stage (INSERT ... SELECT, no events);
2. the same run again over unchanged data: 0 transitions expected;
3. the next night (one day later): the customers whose stage moves get their transition, event and audit entry
   (and subscribers run), through the per-row path.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
GOAL_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    import psycopg

    name = "guanxi_bench_lifecycle"
    with psycopg.connect(f"{args.url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{args.url}/{name}"
    os.environ.setdefault("GUANXI_DATA_DIR", str(ROOT / "var" / "bench-lifecycle"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from guanxi.core.context import system_context
    from guanxi.core.models import Event
    from guanxi.lifecycle import services
    from guanxi.lifecycle.models import CustomerStage, StageTransition
    from guanxi.segments.models import ScoreRun

    now = timezone.now()
    started = time.perf_counter()
    run = ScoreRun.objects.create(started_at=now, as_of=now.date(), status="succeeded")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.7)")
        cursor.execute(
            """
            INSERT INTO customers_customer (version, kind, display_name, given_name, family_name, emails, phones,
                wechat_id, company, industry, region, address, source, custom_fields, profiling_opt_out,
                search_text, created_at, updated_at)
            SELECT 1, 'person', 'Customer ' || g, '', '', '[]', '[]', '', '', '', '', '', 'import', '{}',
                   g %% 50 = 0, 'customer ' || g, %s - interval '900 days', %s
            FROM generate_series(1, %s) g
            """,
            [now, now, args.n],
        )
        cursor.execute(
            """
            INSERT INTO commerce_order (customer_id, external_id, ordered_at, amount, currency, created_at)
            SELECT c.id, 'B-' || c.id || '-' || k, %s - random() * interval '800 days',
                   round((random() * 500)::numeric, 2), 'CNY', %s
            FROM customers_customer c, generate_series(1, (c.id %% 7)::int) k
            """,
            [now, now],
        )
        cursor.execute(
            """
            INSERT INTO segments_customerscore (customer_id, run_id, scored_at, as_of, order_count, revenue,
                frequency, recency_days, tenure_days, days_since_last, monetary, rfm_r, rfm_f, rfm_m, segment,
                abc_tier, value_tier, p_alive, expected_purchases_90d, expected_spend, clv, churn_reasons,
                forecast_purchases, forecast_revenue)
            SELECT c.id, %s, %s, %s, c.id %% 7, 0, greatest(c.id %% 7 - 1, 0), 0, 0, 0, 0, 3, 3, 3, 'loyal',
                   CASE WHEN c.id %% 10 = 0 THEN 'A' WHEN c.id %% 10 < 4 THEN 'B' ELSE 'C' END, 'medium',
                   random(), random(), 100, round((random() * 1000)::numeric, 2), '[]', '[]', '[]'
            FROM customers_customer c WHERE c.id %% 7 <> 0
            """,
            [run.pk, now, now.date()],
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM commerce_order")
        orders = cursor.fetchone()[0]
    load_s = time.perf_counter() - started

    # Subscribers of customer.stage_changed (automation's default rules, webhooks) run inside the evaluation;
    # measure their share so the figure of the evaluation itself can be told apart (behaviour unchanged).
    from guanxi.core import events as core_events

    subscriber_s = [0.0]
    run_handlers = core_events._run_handlers

    def measured(event_type, recorded):
        begun = time.perf_counter()
        try:
            run_handlers(event_type, recorded)
        finally:
            subscriber_s[0] += time.perf_counter() - begun

    core_events._run_handlers = measured

    def timed(**kwargs):
        subscriber_s[0] = 0.0
        begun = time.perf_counter()
        with system_context("job"):
            written = services.evaluate_stages(**kwargs)
        return written, round(time.perf_counter() - begun, 1), round(subscriber_s[0], 1)

    first, first_s, _subs = timed(now=now)
    again, again_s, _subs = timed(now=now)
    events_before = Event.objects.filter(type="customer.stage_changed").count()
    later = now + timedelta(days=1)
    nightly, nightly_s, nightly_subscribers_s = timed(now=later)
    events_after = Event.objects.filter(type="customer.stage_changed").count()
    distribution = dict(CustomerStage.objects.values_list("stage").annotate(n=django.db.models.Count("pk")))
    result = {
        "customers": args.n,
        "orders": orders,
        "load_s": round(load_s, 1),
        "first_run": {"transitions": first, "seconds": first_s, "goal_s": GOAL_S},
        "unchanged_rerun": {"transitions": again, "seconds": again_s, "goal_s": GOAL_S},
        "next_night": {
            "transitions": nightly,
            "events": events_after - events_before,
            "seconds": nightly_s,
            "of_which_subscribers_s": nightly_subscribers_s,
            "goal_s": GOAL_S,
        },
        "stage_transitions_stored": StageTransition.objects.count(),
        "distribution_after": distribution,
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
