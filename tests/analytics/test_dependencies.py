"""Guards for the pins in pyproject.toml: a re-lock that brings back a known-broken combination fails here."""

import ibis
import pandas as pd


def test_ibis_can_replace_and_drop_tables():
    # sqlglot 30.18+ made Ibis 12 emit "DROP VIEW IF EXISTS" without a name; pyproject pins sqlglot<30.18.
    con = ibis.duckdb.connect()
    con.create_table("t", pd.DataFrame({"a": [1, 2]}), overwrite=True)
    con.create_table("t", pd.DataFrame({"a": [3]}), overwrite=True)
    assert con.table("t").to_pandas()["a"].tolist() == [3]  # DuckDB 2 broke this (pinned <2)
    con.drop_table("t")
    assert "t" not in con.list_tables()
