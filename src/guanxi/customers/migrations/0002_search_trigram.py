from django.db import migrations

from guanxi.core.migration_ops import RunSQLOnVendor


class Migration(migrations.Migration):
    """Substring search (LIKE '%q%') on PostgreSQL uses a trigram GIN index; SQLite scans, which is fine at its scale."""

    dependencies = [("customers", "0001_initial")]

    operations = [
        RunSQLOnVendor("postgresql", "CREATE EXTENSION IF NOT EXISTS pg_trgm", "SELECT 1"),
        RunSQLOnVendor(
            "postgresql",
            "CREATE INDEX customers_customer_search_trgm ON customers_customer USING gin (search_text gin_trgm_ops)",
            "DROP INDEX IF EXISTS customers_customer_search_trgm",
        ),
    ]
