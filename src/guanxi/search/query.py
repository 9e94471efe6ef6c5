"""Turning what a user types into a filter over ``Customer.search_text`` that an index can serve.

- The query is normalised like ``search_text`` (NFKC, collapsed spaces, lower case) and split into terms; every
  term must occur (substring match, so 伟 in 王伟明 and "zhang" in "zhang.wei@qq.com" both match).
- A query of digits and phone punctuation (``138 1234-5678``, ``+86 138...``) is one term of its digits.
- Terms shorter than ``MIN_TERM`` characters are ignored; a query with no usable term matches nothing.
- On PostgreSQL, each term's LIKE is served by the trigram index (3+ characters); a term with Chinese
  characters also carries ``guanxi_cjk_bigrams(search_text) @> ARRAY[its bigrams]`` so that a two-character
  name like 王伟 uses the bigram index (see ``guanxi.search.sql``). SQLite scans with LIKE.
"""

import re

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from guanxi.customers import normalize

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
_PHONE_LIKE = re.compile(r"\+?[\d\s()\-.]+")
MIN_TERM = 2
MAX_TERMS = 5
MAX_QUERY = 100


def terms(query: str) -> list[str]:
    """The distinct search terms of ``query``, in order (at most MAX_TERMS)."""
    text = normalize.clean_text((query or "")[:MAX_QUERY]).lower()
    if not text:
        return []
    if _PHONE_LIKE.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        return [digits] if len(digits) >= MIN_TERM else []
    out: list[str] = []
    for term in text.split(" "):
        if len(term) >= MIN_TERM and term not in out:
            out.append(term)
    return out[:MAX_TERMS]


def cjk_bigrams(term: str) -> list[str]:
    """The distinct two-character substrings of the runs of Chinese characters in ``term``, sorted."""
    grams = {run[i : i + 2] for run in CJK.findall(term) for i in range(len(run) - 1)}
    return sorted(grams)


def matching(customers: QuerySet, query: str) -> QuerySet:
    """``customers`` narrowed to those matching every term of ``query`` (none when it has no usable term)."""
    found = terms(query)
    if not found:
        return customers.none()
    postgres = connection.vendor == "postgresql"
    for term in found:
        customers = customers.filter(search_text__contains=term)
        grams = cjk_bigrams(term)
        if grams and postgres:
            customers = customers.filter(
                RawSQL(  # noqa: S611 -- the table name is ours; the bigrams are a bound parameter
                    f"guanxi_cjk_bigrams({customers.model._meta.db_table}.search_text) @> %s::text[]",
                    (grams,),
                    output_field=BooleanField(),
                )
            )
    return customers
