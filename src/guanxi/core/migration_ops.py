"""Migration operations that run on one database vendor only (the same migrations serve SQLite and PostgreSQL)."""

from django.db.migrations.operations.base import Operation


class RunSQLOnVendor(Operation):
    reversible = True
    reduces_to_sql = True

    def __init__(self, vendor: str, sql: str, reverse_sql: str):
        self.vendor, self.sql, self.reverse_sql = vendor, sql, reverse_sql

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            schema_editor.execute(self.sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            schema_editor.execute(self.reverse_sql)

    def describe(self):
        return f"Run SQL on {self.vendor} only"
