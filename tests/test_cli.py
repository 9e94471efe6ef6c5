"""The ``guanxi`` command, run as a real subprocess against its own database (SQLite file, or a fresh
PostgreSQL database on the PostgreSQL pass), which shows that every command honours DATABASE_URL."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

GUANXI = str(Path(sys.executable).with_name("guanxi"))
pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def database_url(tmp_path):
    """A database of the same kind as the suite's, outside pytest-django's control."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        name = f"guanxi_cli_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield f"{base}/{name}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def run(database_url, *args, check=True):
    env = {**os.environ, "DATABASE_URL": database_url, "GUANXI_ENV": "development"}
    result = subprocess.run([GUANXI, *args], env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"guanxi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def query(database_url, sql):
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql).fetchall()
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


def test_migrate_user_and_token_commands(database_url):
    run(database_url, "migrate")
    created = run(
        database_url,
        "user",
        "create",
        "meili",
        "--role",
        "sales",
        "--team",
        "East",
        "--password",
        "a long enough passphrase",
    )
    assert created.stdout == ""  # the password was given, so nothing secret is printed
    assert query(
        database_url,
        "SELECT u.role, t.name FROM accounts_user u JOIN accounts_team t ON t.id = u.team_id WHERE username = 'meili'",
    ) == [("sales", "East")]
    stored = query(database_url, "SELECT password FROM accounts_user WHERE username = 'meili'")[0][0]
    assert stored.startswith("argon2$")

    token = run(database_url, "token", "create", "meili").stdout
    assert token.count("\n") == 1 and token.startswith("gx_")  # only the token on stdout
    import hashlib

    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    assert query(database_url, f"SELECT count(*) FROM accounts_apitoken WHERE digest = '{digest}'") == [(1,)]  # noqa: S608


def test_cli_errors_are_one_line_and_exit_1(database_url):
    run(database_url, "migrate")
    bad_role = run(database_url, "user", "create", "x", "--role", "emperor", check=False)
    assert bad_role.returncode == 1 and bad_role.stderr.startswith("error: ") and bad_role.stderr.count("\n") == 1
    unknown = run(database_url, "token", "create", "nobody", check=False)
    assert unknown.returncode == 1 and "no active user" in unknown.stderr
    weak = run(database_url, "user", "create", "y", "--role", "sales", "--password", "123", check=False)
    assert weak.returncode == 1 and "password" in weak.stderr.lower()


def test_user_without_password_gets_a_printed_random_one(database_url):
    run(database_url, "migrate")
    result = run(database_url, "user", "create", "auto", "--role", "analyst")
    assert result.stdout.startswith("password: ") and len(result.stdout.split()[1]) >= 12


def test_placeholder_secret_key_refuses_to_start_in_production(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "GUANXI_ENV": "production"}
    env.pop("GUANXI_SECRET_KEY", None)
    result = subprocess.run([GUANXI, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "GUANXI_SECRET_KEY" in result.stderr
    env["GUANXI_SECRET_KEY"] = "k" * 50
    env["GUANXI_ALLOWED_HOSTS"] = "crm.example.com"
    assert subprocess.run([GUANXI, "migrate"], env=env, capture_output=True, timeout=300).returncode == 0


def test_stages_command_decides_stages_and_rejects_a_bad_date(database_url):
    run(database_url, "migrate")
    run(database_url, "user", "create", "lan", "--role", "admin", "--password", "a-long-enough-password")
    script = (
        "from guanxi.accounts.models import User\n"
        "from guanxi.customers.services import create_customer\n"
        "from guanxi.lifecycle.models import CustomerStage\n"
        "create_customer(actor=User.objects.get(username='lan'), data={'display_name': 'Lan Fang'})\n"
        "CustomerStage.objects.all().delete()\n"
    )
    run(database_url, "manage", "shell", "-c", script)
    assert query(database_url, "SELECT count(*) FROM lifecycle_customerstage") == [(0,)]
    first = run(database_url, "stages")
    assert "1 stage transitions written" in first.stderr
    assert query(database_url, "SELECT stage FROM lifecycle_customerstage") == [("potential",)]
    again = run(database_url, "stages", "--today", "2026-12-01")
    assert "0 stage transitions written" in again.stderr
    bad = run(database_url, "stages", "--today", "soon", check=False)
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "2026-11-23" in bad.stderr
