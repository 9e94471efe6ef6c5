"""Import throughput: customers and orders CSV files through the same service the CLI and the worker run.

    .venv/bin/python bench/bench_import.py                       # 100,000 customers, 1,000,000 orders
    .venv/bin/python bench/bench_import.py --customers 2000 --orders 20000 --engines sqlite

Each engine runs in a child process with a fresh database: SQLite in a temporary directory, PostgreSQL as a
database of its own on postgres://postgres@127.0.0.1:5432 (created and dropped here). Prints rows per second
next to the peers' published figures.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PEERS = [
    ("EspoCRM", "2,500 contacts in about two hours (a user report): ~0.35 rows/s"),
    ("Twenty", "imports capped at 200 rows per file"),
]


def write_files(directory: Path, customers: int, orders: int) -> tuple[Path, Path]:
    cust = directory / "customers.csv"
    with cust.open("w", encoding="utf-8") as out:
        out.write("客户编号,姓名,邮箱,手机,公司,城市\n")
        for i in range(customers):
            out.write(f"C{i:07d},客户{i},c{i}@example.com,13{i % 10}{i:08d},公司{i % 997},城市{i % 31}\n")
    ords = directory / "orders.csv"
    with ords.open("w", encoding="utf-8") as out:
        out.write("订单号,客户编号,日期,金额,币种\n")
        for i in range(orders):
            out.write(
                f"SO{i:08d},C{(i * 7919) % customers:07d},2026-{1 + i % 12:02d}-{1 + i % 28:02d},"
                f"{10 + (i % 500)}.{i % 100:02d},CNY\n"
            )
    return cust, ords


def _load() -> str:
    """The load average: the machine may be shared, and every other process on its cores slows the import."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def child(engine: str, customers: int, orders: int, batch: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from guanxi.cli import setup_django

    setup_django()
    from django.core.management import call_command

    from guanxi.accounts import services as accounts
    from guanxi.core.context import system_context
    from guanxi.imports import services

    call_command("migrate", interactive=False, verbosity=0)
    admin = accounts.create_user(username="bench", role="admin", password=None, check_password_strength=False)
    with tempfile.TemporaryDirectory() as tmp:
        cust, ords = write_files(Path(tmp), customers, orders)
        for kind, path, rows in (("customers", cust, customers), ("orders", ords, orders)):
            if not rows:
                continue
            start = time.perf_counter()
            with system_context("bench"):
                job = services.import_file(actor=admin, kind=kind, path=path, batch_size=batch)
            seconds = time.perf_counter() - start
            assert job.status == "done" and job.rejected_count == 0, (job.status, job.error, job.rejected_count)
            print(
                f"{engine:<10} {kind:<10} {rows:>10,} rows {seconds:>9.1f} s {rows / seconds:>10,.0f} rows/s"
                f"  (created {job.created_count:,}; {_load()})",
                flush=True,
            )
            if kind == "customers":
                start = time.perf_counter()
                with system_context("bench"):
                    again = services.import_file(actor=admin, kind=kind, path=path, batch_size=batch)
                seconds = time.perf_counter() - start
                assert again.status == "done" and again.unchanged_count == rows, (again.status, again.error)
                print(
                    f"{engine:<10} {'(re-run)':<10} {rows:>10,} rows {seconds:>9.1f} s "
                    f"{rows / seconds:>10,.0f} rows/s  (unchanged {again.unchanged_count:,}; {_load()})",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.customers, args.orders, args.batch)
        return
    print(
        f"import throughput: {args.customers:,} customers, {args.orders:,} orders, batches of {args.batch}; "
        f"{os.cpu_count()} cores, {_load()}"
    )
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, GUANXI_DATA_DIR=tmp, GUANXI_ENV="development", GUANXI_IMPORT_MAX_MB="500")
            name = None
            if engine == "postgres":
                import psycopg

                name = f"guanxi_bench_import_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                env["DATABASE_URL"] = f"{PG_BASE}/{name}"
            else:
                env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            try:
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        engine,
                        "--customers",
                        str(args.customers),
                        "--orders",
                        str(args.orders),
                        "--batch",
                        str(args.batch),
                    ],
                    env=env,
                    check=True,
                )
            finally:
                if name:
                    import psycopg

                    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("peers (published):")
    for peer, figure in PEERS:
        print(f"  {peer:<10} {figure}")


if __name__ == "__main__":
    main()
