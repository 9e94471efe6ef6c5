"""Ibis on the operational database, through Django's own connection.

Analytics expressions then run inside the caller's transaction and see exactly what it sees (on SQLite and
PostgreSQL). Transactions stay Django's: Ibis's SQLite backend commits after each statement, which would
commit the caller's transaction half-way, so it gets a connection whose commit and rollback are left to Django.
(On PostgreSQL Ibis uses psycopg's ``transaction()``, which nests as a savepoint.)
"""

import ibis
from django.db import connection


class _DjangoOwnsTransactions:
    """A sqlite3 connection whose commit/rollback belong to Django's atomic blocks, not to Ibis."""

    def __init__(self, raw):
        self._raw = raw

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._raw, name)


def ibis_connection() -> ibis.BaseBackend:
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "sqlite":
        return ibis.sqlite.from_connection(_DjangoOwnsTransactions(raw))
    if connection.vendor == "postgresql":
        return ibis.postgres.from_connection(raw)
    raise NotImplementedError(f"analytics on {connection.vendor} is not supported")
