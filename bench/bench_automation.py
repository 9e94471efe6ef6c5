"""Automation: event-to-action latency for single orders under a steady load through the API (issue 5).

    .venv/bin/python bench/bench_automation.py [--engine sqlite|postgres] [--rate 50] [--seconds 40]
        [--workers 2] [--url postgres://postgres@127.0.0.1:5432]

Creates its own database (SQLite file under var/bench-automation, or ``guanxi_bench_automation`` on
PostgreSQL, dropped first), migrates it (the default stages and playbooks come with the migrations), loads one
team of 20 reps and one potential customer per order to send, and starts gunicorn (``--workers`` processes with 4
threads, as ``guanxi serve``). Then it sends ``rate`` orders per second for ``seconds`` seconds (open loop: each
order leaves at its planned time, whatever the previous ones do) with ``POST /api/v1/orders``, each for a
different potential customer, so each order runs the whole chain: order.placed -> the lifecycle moves the
customer to "new" -> customer.stage_changed -> the welcome playbook (condition checked in SQL) -> start_cadence
writes three follow-ups with their events and audit entries -> the RuleRun.

Event-to-action latency = the welcome RuleRun's ``at`` (written after the follow-ups, inside the order's
transaction) minus the moment the client sent the request; "response" is the request's round trip, i.e. until
the order and everything it caused were committed. Prints p50/p95/p99/max of both, the achieved rate and the
errors, and the load average.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(args) -> str:
    if args.engine == "postgres":
        import psycopg

        name = "guanxi_bench_automation"
        with psycopg.connect(f"{args.url}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return f"{args.url}/{name}"
    folder = ROOT / "var" / "bench-automation"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return f"sqlite:///{folder / 'guanxi.sqlite3'}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rate", type=float, default=50.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--no-rules", action="store_true", help="deactivate every rule: the same orders without automation"
    )
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = prepare_database(args)
    os.environ["GUANXI_DATA_DIR"] = str(ROOT / "var" / "bench-automation")
    os.environ["GUANXI_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from guanxi.accounts import services as accounts
    from guanxi.accounts.models import Team, User
    from guanxi.automation.models import Rule, RuleRun
    from guanxi.core.context import system_context
    from guanxi.customers import services as customers
    from guanxi.followups.models import FollowUp
    from guanxi.lifecycle.models import CustomerStage

    total = int(args.rate * args.seconds)
    team = Team.objects.create(name="Bench")
    reps = [accounts.create_user(username=f"rep{i}", role="sales", team=team) for i in range(20)]
    admin = accounts.create_user(username="bench-admin", role="admin")
    _record, token = accounts.create_api_token(user=admin, name="bench")
    started = time.perf_counter()
    with system_context("bench"):
        ids: list[int] = []
        for start in range(0, total, 500):
            rows = [
                {"display_name": f"Lead {i}", "owner_id": reps[i % len(reps)].pk, "team_id": team.pk}
                for i in range(start, min(start + 500, total))
            ]
            ids += [c.pk for c in customers.create_customers(actor=admin, rows=rows)]
    potential = CustomerStage.objects.filter(customer_id__in=ids, stage="potential").count()
    print(f"loaded {len(ids)} customers ({potential} potential) in {time.perf_counter() - started:.1f} s")
    welcome = Rule.objects.get(playbook="welcome")
    assert welcome.active and User.objects.filter(role="sales").count() == 20
    if args.no_rules:
        Rule.objects.update(active=False)

    port = free_port()
    env = dict(os.environ)
    log_path = ROOT / "var" / "bench-automation" / f"gunicorn-{args.engine}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "guanxi.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            "4",
            "--timeout",
            "120",
        ],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        import requests

        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                requests.get(f"{base}/api/v1/openapi.json", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        session_local = threading.local()

        def session():
            if not hasattr(session_local, "s"):
                session_local.s = requests.Session()
                session_local.s.headers["Authorization"] = f"Bearer {token}"
            return session_local.s

        # Warm each worker (imports, first queries) on customers outside the measured set.
        with system_context("bench"):
            warm = customers.create_customers(
                actor=admin,
                rows=[{"display_name": f"Warm {i}", "owner_id": reps[0].pk, "team_id": team.pk} for i in range(20)],
            )
        for n, customer in enumerate(warm):
            session().post(
                f"{base}/api/v1/orders",
                json={
                    "customer_id": customer.pk,
                    "external_id": f"W-{n}",
                    "ordered_at": datetime.now(UTC).isoformat(),
                    "amount": "10.00",
                },
                timeout=30,
            )

        sent_at: dict[int, float] = {}
        response_times: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def send(n: int, customer_id: int, due: float) -> None:
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            t0 = time.perf_counter()
            try:
                response = session().post(
                    f"{base}/api/v1/orders",
                    json={
                        "customer_id": customer_id,
                        "external_id": f"B-{n}",
                        "ordered_at": datetime.now(UTC).isoformat(),
                        "amount": "88.00",
                        "lines": [{"description": "Tea", "quantity": "1", "unit_price": "88.00"}],
                    },
                    timeout=120,
                )
                ok = response.status_code == 201
                problem = f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as exc:
                ok, problem = False, str(exc)
            elapsed = time.perf_counter() - t0
            with lock:
                sent_at[customer_id] = sent
                if ok:
                    response_times.append(elapsed)
                else:
                    errors.append(problem)

        load_before = os.getloadavg()[0]
        begin = time.perf_counter() + 0.5
        with ThreadPoolExecutor(max_workers=64) as pool:
            for n, customer_id in enumerate(ids):
                pool.submit(send, n, customer_id, begin + n / args.rate)
        duration = time.perf_counter() - begin
        load_after = os.getloadavg()[0]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    runs = dict(
        RuleRun.objects.filter(rule=welcome, customer_id__in=ids, status="matched").values_list("customer_id", "at")
    )
    latencies = [runs[cid].timestamp() - sent_at[cid] for cid in runs if cid in sent_at]
    stages = CustomerStage.objects.filter(customer_id__in=ids, stage="new").count()
    follow_ups = FollowUp.objects.filter(customer_id__in=ids, rule_id=welcome.pk).count()
    failed = RuleRun.objects.filter(rule=welcome, customer_id__in=ids).exclude(status="matched").count()
    print(
        f"engine={args.engine} workers={args.workers} rules={'off' if args.no_rules else 'on'} planned={total} "
        f"orders at {args.rate:g}/s for {args.seconds:g} s; {stages} customers now new"
    )
    print(
        f"sent {len(sent_at)} in {duration:.1f} s ({len(sent_at) / duration:.1f}/s), {len(response_times)} created, "
        f"{len(errors)} errors; welcome runs {len(runs)} matched, {failed} other; follow-ups {follow_ups}; "
        f"load average {load_before:.1f} -> {load_after:.1f}"
    )
    for label, values in (("event-to-action", latencies), ("response", response_times)):
        ms = [v * 1000 for v in values]
        print(
            f"{label:>16}: p50 {percentile(ms, 50):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  "
            f"p99 {percentile(ms, 99):7.1f} ms  max {max(ms) if ms else float('nan'):7.1f} ms  "
            f"mean {statistics.fmean(ms) if ms else float('nan'):7.1f} ms"
        )
    for problem in errors[:5]:
        print("error:", problem)
    if errors:
        print(f"server log: {log_path}")


if __name__ == "__main__":
    main()
