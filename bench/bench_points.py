"""Loyalty points on PostgreSQL (issue 7): batch earning for N orders, and redemption throughput under concurrency.

    .venv/bin/python bench/bench_points.py [--orders 1000000] [--threads 16] [--redemptions 4000]
                                          [--url postgres://postgres@127.0.0.1:5432]

Creates its own database (``guanxi_bench_points``, dropped first), migrates it, and generates in SQL
(INSERT ... SELECT generate_series): N/5 customers and N orders (5 per customer on average but skewed, so that
a few customers order a lot and reach the higher tiers; amounts 0..500 CNY, spread over the last 400 days).
Then measures:

1. ``loyalty.services.earn_for_orders`` over every order id: the set-based batch path (chunks of 5,000 orders:
   one read of orders, keys and memberships, a bulk insert of ledger entries, one UPDATE ... FROM VALUES for
   the balances, a tier pass; each chunk one transaction). Reports orders/s and entries written.
2. The same call again: idempotency (0 entries expected) and its time.
3. Redemptions: ``--threads`` threads, each with its own connection, fire ``--redemptions`` redemptions in all
   (``redeem_points``, 1..400 points each) at 200 members drawn at random among those with points (hot rows:
   many threads hit the same membership row at once, and many balances run out, so refusals happen too).
   Reports redemptions/s, successes and refusals (InsufficientPoints), any other error, and then checks every
   balance: ledger sum == cached balance for every member, none negative, no lot allocated beyond its points.
"""

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--redemptions", type=int, default=4000)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    import psycopg

    name = "guanxi_bench_points"
    with psycopg.connect(f"{args.url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{args.url}/{name}"
    os.environ.setdefault("GUANXI_DATA_DIR", str(ROOT / "var" / "bench-points"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from guanxi.core.context import system_context
    from guanxi.loyalty import services
    from guanxi.loyalty.errors import InsufficientPoints
    from guanxi.loyalty.models import Membership, PointsEntry

    now = timezone.now()
    customers = max(1, args.orders // 5)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            INSERT INTO customers_customer (version, kind, display_name, given_name, family_name, emails, phones,
                wechat_id, company, industry, region, address, source, custom_fields, profiling_opt_out,
                search_text, created_at, updated_at)
            SELECT 1, 'person', 'Customer ' || g, '', '', '[]', '[]', '', '', '', '', '', 'import', '{}',
                   false, 'customer ' || g, %s - interval '500 days', %s
            FROM generate_series(1, %s) g
            """,
            [now, now, customers],
        )
        cursor.execute(
            """
            INSERT INTO commerce_order (customer_id, external_id, ordered_at, amount, currency, created_at,
                refund_reason)
            SELECT 1 + least(%s - 1, floor(%s * power(random(), 2))::int), 'P-' || g,
                   %s - random() * interval '400 days',
                   round((random() * 500)::numeric, 2), 'CNY', %s, ''
            FROM generate_series(1, %s) g
            """,
            [customers, customers, now, now, args.orders],
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT id FROM commerce_order ORDER BY id")
        order_ids = [row[0] for row in cursor.fetchall()]
    print(f"generated {customers:,} customers and {len(order_ids):,} orders in {time.perf_counter() - started:.1f} s")

    with system_context("bench"):
        begun = time.perf_counter()
        written = services.earn_for_orders(order_ids)
        earn_s = time.perf_counter() - begun
        begun = time.perf_counter()
        again = services.earn_for_orders(order_ids)
        replay_s = time.perf_counter() - begun
    print(
        f"earning: {written:,} entries for {len(order_ids):,} orders in {earn_s:.1f} s "
        f"({len(order_ids) / earn_s:,.0f} orders/s); replay: {again} entries in {replay_s:.1f} s"
    )
    tiers = dict(
        Membership.objects.values("tier__key").annotate(n=django.db.models.Count("pk")).values_list("tier__key", "n")
    )
    print(f"members per tier after earning: {tiers}")

    funded = list(Membership.objects.filter(balance__gt=0).order_by("pk").values_list("pk", flat=True))
    hot = random.Random(7).sample(funded, min(200, len(funded)))
    barrier = threading.Barrier(args.threads)
    per_thread = args.redemptions // args.threads
    counts = {"ok": 0, "insufficient": 0, "other": 0}
    lock = threading.Lock()
    others: list[str] = []

    def worker(index: int) -> None:
        rng = random.Random(index)
        local = {"ok": 0, "insufficient": 0, "other": 0}
        try:
            barrier.wait(timeout=60)
            for n in range(per_thread):
                try:
                    services.redeem_points(
                        actor=None,
                        customer_id=rng.choice(hot),
                        points=rng.randint(1, 400),
                        source_key=f"bench:{index}:{n}",
                    )
                    local["ok"] += 1
                except InsufficientPoints:
                    local["insufficient"] += 1
                except Exception as exc:  # reported, not hidden
                    local["other"] += 1
                    with lock:
                        others.append(repr(exc))
        finally:
            connection.close()
            with lock:
                for key, value in local.items():
                    counts[key] += value

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    redeem_s = time.perf_counter() - begun
    total = per_thread * args.threads
    print(
        f"redemptions: {total:,} by {args.threads} threads on {len(hot)} members in {redeem_s:.1f} s "
        f"({total / redeem_s:,.0f} redemptions/s): {counts['ok']:,} succeeded, {counts['insufficient']:,} refused "
        f"(insufficient points), {counts['other']} other errors {others[:3]}"
    )

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM loyalty_membership m
            LEFT JOIN (SELECT customer_id, sum(points) s FROM loyalty_pointsentry GROUP BY customer_id) l
                ON l.customer_id = m.customer_id
            WHERE m.balance <> coalesce(l.s, 0)
            """
        )
        mismatched = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM loyalty_membership WHERE balance < 0")
        negative = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM loyalty_pointsentry e
            JOIN (SELECT lot_id, sum(points) used FROM loyalty_pointsallocation GROUP BY lot_id) a ON a.lot_id = e.id
            WHERE a.used > e.points
            """
        )
        overdrawn = cursor.fetchone()[0]
    entries = PointsEntry.objects.count()
    print(
        f"balance errors: {mismatched} members whose cache differs from the ledger, {negative} negative balances, "
        f"{overdrawn} lots allocated beyond their points ({entries:,} ledger entries)"
    )
    if mismatched or negative or overdrawn or counts["other"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
