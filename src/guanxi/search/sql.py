"""PostgreSQL DDL for customer search, shared by the migration and bench/bench_search.py.

Why a second index beside the trigram one (customers migration 0002): pg_trgm indexes LIKE '%q%' only through
trigrams of q, and a two-character query (王伟, 科技) has none, so PostgreSQL would read every row. Chinese words
and names are mostly two characters, so the CJK runs of ``search_text`` are also indexed as a set of
bigrams: ``guanxi_cjk_bigrams(search_text) @> ARRAY['王伟']`` finds the candidates through a GIN index, and the
LIKE beside it keeps the exact substring meaning. The character ranges match ``guanxi.search.query.CJK``.
"""

BIGRAM_FUNCTION = r"""
CREATE OR REPLACE FUNCTION guanxi_cjk_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(r[1], i, 2)), '{}'::text[])
    FROM regexp_matches(t, '[\u3400-\u9fff\uf900-\ufaff]{2,}', 'g') AS r,
         generate_series(1, char_length(r[1]) - 1) AS i
$$
"""
DROP_BIGRAM_FUNCTION = "DROP FUNCTION IF EXISTS guanxi_cjk_bigrams(text)"

BIGRAM_INDEX = (
    "CREATE INDEX IF NOT EXISTS customers_customer_search_cjk_bigrams "
    "ON customers_customer USING gin (guanxi_cjk_bigrams(search_text))"
)
DROP_BIGRAM_INDEX = "DROP INDEX IF EXISTS customers_customer_search_cjk_bigrams"
