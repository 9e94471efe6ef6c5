from django.db import migrations

from guanxi.core.migration_ops import RunSQLOnVendor
from guanxi.search import sql


class Migration(migrations.Migration):
    """A GIN index over the CJK bigrams of customers.search_text, for two-character Chinese queries that the
    trigram index cannot serve (see guanxi/search/sql.py). PostgreSQL only; SQLite scans."""

    dependencies = [("customers", "0002_search_trigram")]

    operations = [
        RunSQLOnVendor("postgresql", sql.BIGRAM_FUNCTION, sql.DROP_BIGRAM_FUNCTION),
        RunSQLOnVendor("postgresql", sql.BIGRAM_INDEX, sql.DROP_BIGRAM_INDEX),
    ]
