"""SIGKILL a real ``guanxi import`` mid-job, run it again, and get exactly the rows of one clean run.

Runs against a file-based SQLite database under tmp_path and, when DATABASE_URL points at PostgreSQL, against a
fresh PostgreSQL database created (and dropped) by the test.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROWS = 600  # each subprocess pays Django's start-up; kept small so the test stays a few minutes
GUANXI = [sys.executable, "-m", "guanxi.cli"]


def customers_csv(path: Path, rows: int = ROWS) -> Path:
    lines = ["客户编号,姓名,邮箱,手机,公司"]
    for i in range(rows):
        lines.append(f"K{i:05d},客户{i},c{i}@example.com,139{i:08d},公司{i % 50}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def orders_csv(path: Path) -> Path:
    lines = ["订单号,客户,日期,商品,数量,单价"]
    for i in range(ROWS):
        lines.append(f"SO{i:05d},K{i % 100:05d},2026-0{1 + i % 9}-1{i % 10},SKU{i % 7},{1 + i % 3},{10 + i % 5}.50")
        lines.append(f"SO{i:05d},K{i % 100:05d},2026-0{1 + i % 9}-1{i % 10},GIFT,1,0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Database:
    """A throw-away database for the subprocesses: SQLite file, or a PostgreSQL database of its own."""

    def __init__(self, tmp_path: Path, name: str):
        self.tmp_path = tmp_path
        base = os.environ.get("DATABASE_URL", "")
        self.postgres = base.startswith("postgres")
        if self.postgres:
            self.name = f"guanxi_h1_kill_{name}_{uuid.uuid4().hex[:8]}"
            self.admin_url = base.rsplit("/", 1)[0] + "/postgres"
            self.url = base.rsplit("/", 1)[0] + "/" + self.name
            self._admin(f'CREATE DATABASE "{self.name}"')
        else:
            self.path = tmp_path / f"{name}.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def copy(self, name: str) -> "Database":
        other = Database.__new__(Database)
        other.tmp_path, other.postgres = self.tmp_path, self.postgres
        if self.postgres:
            other.name = f"guanxi_h1_kill_{name}_{uuid.uuid4().hex[:8]}"
            other.admin_url = self.admin_url
            other.url = self.admin_url.rsplit("/", 1)[0] + "/" + other.name
            other._admin(f'CREATE DATABASE "{other.name}" TEMPLATE "{self.name}"')
        else:
            other.path = self.tmp_path / f"{name}.sqlite3"
            shutil.copy(self.path, other.path)
            other.url = f"sqlite:///{other.path}"
        return other

    def drop(self) -> None:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str) -> list[tuple]:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return conn.execute(sql).fetchall()
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def env(self) -> dict[str, str]:
        env = dict(os.environ, DATABASE_URL=self.url, GUANXI_DATA_DIR=str(self.tmp_path / "data"))
        env.pop("GUANXI_ENV", None)
        return env


def guanxi(db: Database, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*GUANXI, *args], env=db.env(), capture_output=True, text=True, check=check, timeout=600)


def snapshot(db: Database, kind: str) -> list[tuple]:
    if kind == "customers":
        return sorted(
            db.query(
                "SELECT display_name, emails, phones, company, owner_id, version FROM customers_customer "
                "WHERE deleted_at IS NULL"
            ),
            key=repr,
        )
    return sorted(
        db.query(
            "SELECT o.external_id, o.customer_id, o.amount, o.currency, o.ordered_at, COUNT(l.id), "
            "SUM(l.quantity * l.unit_price) FROM commerce_order o LEFT JOIN commerce_orderline l ON l.order_id = o.id "
            "GROUP BY o.external_id, o.customer_id, o.amount, o.currency, o.ordered_at"
        ),
        key=repr,
    )


def kill_mid_job(db: Database, args: list[str]) -> int:
    """Start the import, SIGKILL it once some batches but not all are committed; return the rows committed."""
    process = subprocess.Popen([*GUANXI, *args], env=db.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    processed = 0
    try:
        while time.monotonic() < deadline and process.poll() is None:
            rows = db.query("SELECT processed_rows, total_rows FROM imports_importjob ORDER BY id DESC LIMIT 1")
            if rows and rows[0][1] and 0 < rows[0][0] < rows[0][1] // 2:
                processed = rows[0][0]
                break
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    return processed


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["customers", "orders"])
def test_a_killed_import_rerun_gives_exactly_one_clean_run(tmp_path, kind):
    base = Database(tmp_path, "base")
    databases = [base]
    try:
        guanxi(base, "migrate")
        guanxi(base, "user", "create", "boss", "--role", "admin", "--password", "a-long-enough-password-1")
        if kind == "orders":
            # The customers the orders refer to, imported once in the base both runs start from.
            guanxi(base, "import", "customers", str(customers_csv(tmp_path / "customers.csv", 100)), "--as", "boss")
        file = customers_csv(tmp_path / "in.csv") if kind == "customers" else orders_csv(tmp_path / "in.csv")
        clean = base.copy("clean")
        databases.append(clean)
        killed = base
        args = ["import", kind, str(file), "--as", "boss", "--batch-size", "20"]

        committed = kill_mid_job(killed, args)
        assert committed > 0
        partial = snapshot(killed, kind)
        # Only whole batches were committed: no half-written order or customer.
        assert len(partial) == (committed if kind == "customers" else committed // 2)
        assert killed.query("SELECT status FROM imports_importjob ORDER BY id DESC LIMIT 1") == [("running",)]

        rerun = guanxi(killed, *args)
        assert "rejected 0" in rerun.stdout, rerun.stdout + rerun.stderr
        guanxi(clean, *args)
        expected = snapshot(clean, kind)
        assert len(expected) == ROWS
        assert snapshot(killed, kind) == expected
    finally:
        for db in databases:
            db.drop()
