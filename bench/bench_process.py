"""Service-process analysis over a ticket status event log (issue 6, item 5: 1,000,000 status events).

    .venv/bin/python bench/bench_process.py [--events 1000000] [--seed 1]
    .venv/bin/python bench/bench_process.py --pg postgres://postgres@127.0.0.1:5432 [--events 1000000]

Without ``--pg``: generates a synthetic log in memory (``guanxi.quality.process.generate_log``: about 5.4 events per
ticket, so ~185,000 tickets for 1,000,000 events; new -> open -> (pending -> open)* -> resolved [-> open ->
resolved] -> closed, with the return category's pending time planted 10x), shuffles it, and times
``process.analyse`` step by step (sorting and intervals, time in status, waiting/working, reopens, ageing,
throughput, process map, bottleneck ranking over status x category/team/priority and their pairs).

With ``--pg``: also creates the database ``guanxi_bench_process`` (dropped first), migrates it, COPYs the same
tickets and status changes into tickets_ticket / tickets_ticketstatuschange, and times what the page and the API
do: ``quality.selectors.event_log`` (the scoped read into a DataFrame) and then the analysis, as an admin.

Prints the figures; the goal is "seconds", i.e. an interactive page over a year of a large service desk.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def timed(label: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"  {label:<34} {time.perf_counter() - t0:7.2f} s")
    return result


def analyse_in_memory(log, process) -> None:
    frame, as_of = timed("validate + sort", process._prepare, log.sample(frac=1, random_state=1), None)
    intervals = timed("intervals", process._intervals, frame, as_of, process.StatusClasses())
    timed("time in status", process.time_in_status, intervals)
    timed("waiting vs working", process.waiting_working, intervals)
    timed("reopen loops", process.reopen_loops, intervals)
    timed("queue ageing", process.queue_ageing, intervals, as_of=as_of)
    timed("throughput per day", process.throughput, intervals, tz="Asia/Shanghai")
    timed("process map", process.process_map, intervals)
    top = timed("bottlenecks", process.bottlenecks, intervals)
    print(f"  first bottleneck: {top[0].explanation}")
    t0 = time.perf_counter()
    process.analyse(log, tz="Asia/Shanghai")
    print(f"  {'analyse() end to end':<34} {time.perf_counter() - t0:7.2f} s")


def load_postgres(url: str, log) -> None:
    import psycopg

    name = "guanxi_bench_process"
    with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{url}/{name}"
    os.environ.setdefault("GUANXI_DATA_DIR", str(ROOT / "var" / "bench-process"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from guanxi.accounts import services as accounts
    from guanxi.customers import services as customers
    from guanxi.quality import selectors
    from guanxi.tickets.models import Queue, TicketCategory

    call_command("migrate", verbosity=0)
    admin = accounts.create_user(username="bench-admin", role="admin")
    customer = customers.create_customer(actor=admin, data={"display_name": "Bench"})
    queues = {}
    for team_name in sorted(log["team"].unique()):
        team = accounts.create_team(name=team_name)
        queues[team_name] = Queue.objects.create(name=f"{team_name} desk", team=team).pk
    categories = dict(TicketCategory.objects.values_list("key", "pk"))
    firsts = log.groupby("case_id").first()
    last = log.groupby("case_id")["status"].last()
    t0 = time.perf_counter()
    raw = connection.connection
    ticket_columns = ("id, version, number, customer_id, subject, description, channel, category_id, priority, "
                      "priority_rank, status, queue_id, requester_name, requester_email, requester_phone, created_at, "
                      "updated_at, reopen_count, notify_requester, token_digest, sla_breached")  # fmt: skip
    ranks = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY tickets_ticket ({ticket_columns}) FROM STDIN") as copy:
            for case, row in zip(firsts.index, firsts.itertuples(), strict=True):
                copy.write_row((int(case), 1, f"T-{case:07d}", customer.pk, "Bench", "", "web_form",
                                categories[row.category], row.priority, ranks[row.priority], last[case],
                                queues[row.team], "", "", "", row.at, row.at, 0, False, "", False))  # fmt: skip
        previous = log.groupby("case_id")["status"].shift(1).fillna("")
        columns = "ticket_id, from_status, to_status, at, queue_id, priority, category_id"
        with cursor.copy(f"COPY tickets_ticketstatuschange ({columns}) FROM STDIN") as copy:
            for r, p in zip(log.itertuples(), previous, strict=True):
                copy.write_row((int(r.case_id), p, r.status, r.at, queues[r.team], r.priority, categories[r.category]))
        cursor.execute("ANALYZE tickets_ticket; ANALYZE tickets_ticketstatuschange")
    raw.commit()
    print(f"  {'COPY tickets + status changes':<34} {time.perf_counter() - t0:7.2f} s")
    since = log["at"].min().tz_convert("Asia/Shanghai").date()
    until = log["at"].max().tz_convert("Asia/Shanghai").date()
    frame = timed("event_log (PostgreSQL -> frame)", selectors.event_log, admin, since, until)
    print(f"  events read: {len(frame):,}")
    t0 = time.perf_counter()
    result = selectors.analysis(admin, since, until)
    print(f"  {'selectors.analysis (read + analyse)':<34} {time.perf_counter() - t0:7.2f} s")
    print(f"  first bottleneck: {result.bottlenecks[0].explanation}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default="", help="PostgreSQL server URL without a database name")
    args = parser.parse_args()

    from guanxi.quality import process

    cases = max(1, round(args.events / 5.36))
    t0 = time.perf_counter()
    log = process.generate_log(cases, seed=args.seed, days=365, planted={"status": "pending", "category": "return"})
    print(f"generated {len(log):,} status events for {cases:,} tickets in {time.perf_counter() - t0:.2f} s")
    print("in memory:")
    analyse_in_memory(log, process)
    if args.pg:
        print("PostgreSQL:")
        load_postgres(args.pg.rstrip("/"), log)


if __name__ == "__main__":
    main()
