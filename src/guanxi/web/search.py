"""The header's global search: the top customers matching what was typed, and matching tags, for one user.

Customers come from ``core.access.visible_customers`` (an out-of-scope customer is never a result) and match on
``search_text`` (name, Chinese name substrings, e-mails, phones, company, WeChat ID) through
``guanxi.search.query``, which PostgreSQL serves from the trigram and CJK bigram indexes. Analysts, who see no
personal data, get tags only. The query asks for ``TOP + 1`` rows with no ORDER BY, so that PostgreSQL stops
reading as soon as it has them even when a term matches a third of a million customers (sorting all matches
to take the first few is what makes a frequent term slow); the few rows are then ranked here: name starts with
the query, then name contains it, then the rest, by name. ``bench/bench_search.py`` measures it on 1M customers.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from guanxi.core import access
from guanxi.customers.models import Customer, Tag
from guanxi.search import query as search_query

TOP = 8
TOP_TAGS = 5


@dataclass
class Results:
    query: str
    terms: list[str]
    customers: list[Customer] = field(default_factory=list)
    more: bool = False
    tags: list[str] = field(default_factory=list)
    personal: bool = True

    @property
    def empty(self) -> bool:
        return not self.customers and not self.tags


def customer_queryset(user, q: str) -> QuerySet:
    """Visible customers matching ``q``, unordered, with the columns a result line shows."""
    customers = access.visible_customers(user)
    return (
        search_query.matching(customers, q)
        .order_by()
        .only("id", "display_name", "company", "emails", "phones", "wechat_id")
    )


def _rank(customer: Customer, terms: list[str]) -> tuple:
    name = customer.display_name.lower()
    first = terms[0] if terms else ""
    return (not name.startswith(first), first not in name, name, customer.pk)


def search_customers(user, q: str) -> Results:
    """The header search's results for ``user``: up to TOP customers (``more`` when there are others) and tags."""
    terms = search_query.terms(q)
    results = Results(query=q, terms=terms, personal=access.can_see_personal_data(user))
    if not terms:
        return results
    if results.personal:
        found = list(customer_queryset(user, q)[: TOP + 1])
        results.more = len(found) > TOP
        results.customers = sorted(found, key=lambda c: _rank(c, terms))[:TOP]
    tags = Tag.objects.all()
    for term in terms:
        tags = tags.filter(name__icontains=term)
    results.tags = list(tags.order_by("name").values_list("name", flat=True)[:TOP_TAGS])
    return results
