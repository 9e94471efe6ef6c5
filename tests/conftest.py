"""Shared fixtures: users per role, API clients, customers. The database is SQLite or, with DATABASE_URL, a
fresh PostgreSQL database (scripts/run-tests runs both)."""

import os

import pytest

# Django-dependent imports live inside the fixtures, so that `pytest -p no:django tests/analytics` works.

DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL pass (GUANXI_TEST_DB_ONLY=1) run only the tests that touch the database."""
    if os.environ.get("GUANXI_TEST_DB_ONLY") != "1":
        return
    selected, deselected = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") or DB_FIXTURES & set(getattr(item, "fixturenames", ()))
        (selected if uses_db else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_report_header(config):
    return f"database: {os.environ.get('DATABASE_URL', 'sqlite (in memory)').rsplit('@', 1)[-1]}"


@pytest.fixture
def vendor():
    from django.db import connection

    return connection.vendor


@pytest.fixture
def teams(db):
    from guanxi.accounts import services as accounts

    return [accounts.create_team(name=name) for name in ("Team A", "Team B")]


@pytest.fixture
def make_user(db):
    from guanxi.accounts import services as accounts

    def make(username: str, role: str, team=None, password: str | None = None):
        return accounts.create_user(
            username=username, role=role, team=team, password=password, check_password_strength=False
        )

    return make


@pytest.fixture
def users(teams, make_user):
    """Two reps in team A, one in team B, a manager of team A, a support agent, an analyst and an admin."""
    a, b = teams
    return {
        "rep": make_user("rep", "sales", a),
        "rep2": make_user("rep2", "sales", a),
        "rep_b": make_user("rep_b", "sales", b),
        "manager": make_user("manager", "manager", a),
        "support": make_user("support", "support", a),
        "analyst": make_user("analyst", "analyst"),
        "admin": make_user("admin", "admin"),
    }


@pytest.fixture
def api(db):
    """``api(user)`` -> a Django test client that sends that user's bearer token on every request."""
    from django.test import Client

    from guanxi.accounts import services as accounts

    def make(user):
        if user is None:
            return Client()
        _record, token = accounts.create_api_token(user=user, name="test")
        return Client(headers={"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def make_customer(db):
    from guanxi.accounts import services as accounts
    from guanxi.accounts.models import User
    from guanxi.customers import services

    def make(owner: User, **fields):
        data = {"display_name": fields.pop("display_name", "Customer"), **fields}
        actor = owner
        if owner.role != "sales":
            admin = User.objects.filter(role="admin").first() or accounts.create_user(
                username="factory-admin", role="admin"
            )
            actor = admin
            data.setdefault("owner_id", owner.pk)
            data.setdefault("team_id", owner.team_id)
        return services.create_customer(actor=actor, data=data)

    return make


@pytest.fixture(autouse=True)
def _reset_language():
    """LocaleMiddleware leaves the last request's language active in the thread; start every test in English."""
    from django.conf import settings

    yield
    if settings.configured:
        from django.utils import translation

        translation.activate("en")


@pytest.fixture
def browser_for(db):
    """``browser_for(user)``: a Django test client logged in as ``user`` (pages, HTMX fragments, CSRF-free)."""
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _seeded_rows(request):
    """Transactional tests (threads, the browser's live server) start with the data migrations' rows, even after
    an earlier transactional test's flush removed them (tests/seeds.py)."""
    marker = request.node.get_closest_marker("django_db")
    by_marker = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if by_marker:
        request.getfixturevalue("_django_db_helper")
    elif {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
    else:
        return
    from tests import seeds

    if seeds.flushed():
        seeds.restore_defaults()


@pytest.fixture(autouse=True)
def _fresh_automation_rules():
    """Automation caches the active rules for a few seconds per process; a test must see its own database's rules
    (a transactional test's flush removes the default playbooks another test's cache would still hold)."""
    from guanxi.automation import engine

    engine.invalidate()
    yield
    engine.invalidate()
