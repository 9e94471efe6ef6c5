"""Service desk on PostgreSQL: the ticket queue page and the API list over N tickets (issue 6: 200,000).

    .venv/bin/python bench/bench_tickets.py [--n 200000] [--requests 200] [--pg postgres://postgres@127.0.0.1:5432]

Creates its own database (``guanxi_bench_tickets``, dropped first), migrates it, generates in SQL (INSERT ...
SELECT generate_series) 3 teams with a queue each, N/10 customers and N tickets spread over the last 365 days
(a fifth of them still new/open/pending, random priorities, categories and agents), then times with the Django
test client: the queue page /tickets/ logged in as a support agent (their team's queues) and as a manager (the
teams they lead plus their customers), and GET /api/v1/tickets as the agent, each ``--requests`` times with
varied filters (status, priority, assignee mine/unassigned, category, search by number, sort by priority/due).
Prints p50 and p95 latency in milliseconds.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    import psycopg

    name = "guanxi_bench_tickets"
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{args.pg}/{name}"
    os.environ.setdefault("GUANXI_DATA_DIR", str(ROOT / "var" / "bench-tickets"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)

    from guanxi.accounts import services as accounts
    from guanxi.tickets.models import Queue, TicketCategory

    teams = [accounts.create_team(name=f"Team {i}") for i in range(3)]
    agents = [
        accounts.create_user(username=f"agent{i}", role="support", team=teams[i % 3], check_password_strength=False)
        for i in range(9)
    ]
    manager = accounts.create_user(username="boss", role="manager", team=teams[0], check_password_strength=False)
    teams[0].managers.add(manager)
    rep = accounts.create_user(username="rep", role="sales", team=teams[0], check_password_strength=False)
    queues = [Queue.objects.create(name=f"Queue {i}", team=t) for i, t in enumerate(teams)]
    categories = list(TicketCategory.objects.values_list("pk", flat=True))
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.3)")
        cursor.execute(
            """
            INSERT INTO customers_customer (version, kind, display_name, given_name, family_name, emails, phones,
                wechat_id, company, industry, region, address, source, custom_fields, profiling_opt_out,
                search_text, created_at, updated_at, owner_id, team_id)
            SELECT 1, 'person', 'Customer ' || g, '', '', '[]', '[]', '', '', '', '', '', 'import', '{}', false,
                   'customer ' || g, %s, %s, CASE WHEN g %% 20 = 0 THEN %s END, %s
            FROM generate_series(1, %s) g
            """,
            [now, now, rep.pk, teams[0].pk, max(1, args.n // 10)],
        )
        cursor.execute("SELECT min(id), max(id) FROM customers_customer")
        low, high = cursor.fetchone()
        statuses = ["new", "open", "pending", "resolved", "closed", "closed", "closed", "resolved", "closed", "closed"]
        cursor.execute(
            """
            INSERT INTO tickets_ticket (version, number, customer_id, subject, description, channel, category_id,
                priority, priority_rank, status, queue_id, assignee_id, requester_name, requester_email,
                requester_phone, created_at, updated_at, reopen_count, notify_requester, token_digest,
                resolution_due_at, sla_breached)
            SELECT 1, 'T-' || lpad(g::text, 6, '0'), %s + (g %% (%s - %s + 1)), 'Subject ' || g, '', 'phone',
                   (%s::int[])[1 + g %% %s], (ARRAY['low','normal','high','urgent'])[1 + (g / 7) %% 4], (g / 7) %% 4,
                   (%s::text[])[1 + (g / 3) %% 10], (%s::int[])[1 + g %% 3],
                   CASE WHEN g %% 5 = 0 THEN NULL ELSE (%s::int[])[1 + g %% 9] END, '', '', '',
                   %s - (random() * interval '365 days'), %s, 0, false, '',
                   %s + (random() * interval '5 days'), g %% 17 = 0
            FROM generate_series(1, %s) g
            """,
            [
                low,
                high,
                low,
                categories,
                len(categories),
                statuses,
                [q.pk for q in queues],
                [a.pk for a in agents],
                now,
                now,
                now,
                args.n,
            ],
        )
        cursor.execute("ANALYZE")
    print(f"generated {args.n:,} tickets in {time.perf_counter() - started:.1f} s")

    rng = random.Random(7)

    def params():
        p = {}
        if rng.random() < 0.7:
            p["status"] = rng.choice(["open_all", "new", "open", "pending", "resolved"])
        if rng.random() < 0.3:
            p["priority"] = rng.choice(["urgent", "high", "normal", "low"])
        if rng.random() < 0.3:
            p["assignee"] = rng.choice(["mine", "unassigned"])
        if rng.random() < 0.2:
            p["category"] = rng.choice(["complaint", "return", "question"])
        if rng.random() < 0.1:
            p["q"] = f"T-{rng.randint(1, args.n):06d}"
        p["sort"] = rng.choice(["created", "priority", "due"])
        return p

    def measure(label, client, path):
        client.get(path)  # warm up
        times = []
        for _ in range(args.requests):
            t = time.perf_counter()
            response = client.get(path, params())
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.status_code
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"{label:<40} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")

    agent_browser, manager_browser = Client(), Client()
    agent_browser.force_login(agents[0])
    manager_browser.force_login(manager)
    _record, token = accounts.create_api_token(user=agents[0], name="bench")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    measure("queue page /tickets/ (support agent)", agent_browser, "/tickets/")
    measure("queue page /tickets/ (manager)", manager_browser, "/tickets/")
    measure("GET /api/v1/tickets (support agent)", api, "/api/v1/tickets")


if __name__ == "__main__":
    main()
