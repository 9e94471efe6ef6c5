"""Ownership on PostgreSQL: the daily auto-release job over N owned customers, and claim latency (issue 3, item 4).

    .venv/bin/python bench/bench_ownership.py [--n 20000] [--claims 500] [--url postgres://postgres@127.0.0.1:5432]

Creates its own database (``guanxi_bench_ownership``, dropped first), migrates it, loads one team with 20 reps
and N customers owned by them whose last activity (creation, ownership, orders) is spread uniformly over the last
120 days, with a rule "release after 30 days, warn 3 days before". Times ``release_idle_customers`` (first run:
the whole backlog of warnings and releases; second run the same day: idempotent, nothing to do; the next day:
the steady state), then ``claim_customer`` one at a time
for pool customers (the conditional UPDATE, history row, event, audit entry, quota and cap checks).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    import psycopg

    name = "guanxi_bench_ownership"
    with psycopg.connect(f"{args.url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{args.url}/{name}"
    os.environ.setdefault("GUANXI_DATA_DIR", str(ROOT / "var" / "bench-ownership"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from guanxi.accounts.models import Team, User
    from guanxi.commerce.models import Order
    from guanxi.core.context import system_context
    from guanxi.customers.models import Customer
    from guanxi.ownership import services
    from guanxi.ownership.models import OwnershipChange, PoolRule

    rng = random.Random(7)
    team = Team.objects.create(name="Bench")
    reps = User.objects.bulk_create([User(username=f"rep{i}", role="sales", team=team) for i in range(20)])
    PoolRule.objects.create(team=team, release_after_days=30, warning_days=3, daily_claim_quota=None)
    now = timezone.now()
    started = time.perf_counter()
    customers = Customer.objects.bulk_create(
        [
            Customer(display_name=f"Customer {i}", owner=rng.choice(reps), team=team, search_text=f"customer {i}")
            for i in range(args.n)
        ],
        batch_size=5000,
    )
    ages = {c.pk: timedelta(days=rng.uniform(0, 120)) for c in customers}
    Customer.objects.filter(team=team).update(created_at=now - timedelta(days=200))
    OwnershipChange.objects.bulk_create(
        [
            OwnershipChange(customer=c, to_user=c.owner, team=team, reason="assigned", at=now - ages[c.pk])
            for c in customers
        ],
        batch_size=5000,
    )
    Order.objects.bulk_create(
        [
            Order(
                customer=c,
                external_id=f"O-{c.pk}",
                ordered_at=now - ages[c.pk] + timedelta(days=rng.uniform(0, ages[c.pk].days)),
                amount=10,
                currency="CNY",
            )
            for c in customers
            if rng.random() < 0.3
        ],
        batch_size=5000,
    )
    pool = Customer.objects.bulk_create(
        [Customer(display_name=f"Pool {i}", team=team, search_text=f"pool {i}") for i in range(args.claims)]
    )
    load_s = time.perf_counter() - started
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    with system_context("bench"):
        started = time.perf_counter()
        first = services.release_idle_customers()
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        second = services.release_idle_customers()
        second_s = time.perf_counter() - started
        # The steady state: the next day only releases and warns those that crossed a threshold overnight.
        started = time.perf_counter()
        third = services.release_idle_customers(timezone.localdate() + timedelta(days=1))
        third_s = time.perf_counter() - started

    latencies = []
    for index, customer in enumerate(pool):
        rep = reps[index % len(reps)]
        started = time.perf_counter()
        services.claim_customer(actor=rep, customer_id=customer.pk)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    result = {
        "customers": args.n,
        "load_s": round(load_s, 1),
        "job_first_run_s": round(first_s, 2),
        "released": len(first.released),
        "warned": len(first.warned),
        "job_second_run_s": round(second_s, 2),
        "second_run_released": len(second.released),
        "second_run_warned": len(second.warned),
        "job_next_day_s": round(third_s, 2),
        "next_day_released": len(third.released),
        "next_day_warned": len(third.warned),
        "claims": len(latencies),
        "claim_ms_p50": round(statistics.median(latencies), 2),
        "claim_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
