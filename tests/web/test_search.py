"""The header's global search: scope first, then what it finds (names, Chinese substrings, phones, e-mails,
companies, WeChat IDs, tags), the fragment and page, and the query count."""

import pytest
from django.test import Client

from guanxi.search import query as search_query
from guanxi.web import search


@pytest.fixture
def people(users, make_customer):
    return {
        "wang": make_customer(
            users["rep"],
            display_name="王伟明",
            emails=["weiming.wang@example.com"],
            phones=["+8613812345678"],
            company="上海华信科技有限公司",
            wechat_id="wxid_weiming",
            tags=["展会2024"],
        ),
        "alice": make_customer(users["rep"], display_name="Alice Smith", company="Acme Trading Ltd"),
        "hidden": make_customer(users["rep_b"], display_name="王伟 Hidden", phones=["+8613812349999"]),
    }


def _names(results) -> set[str]:
    return {c.display_name for c in results.customers}


def test_search_needs_login(db):
    response = Client().get("/search/", {"q": "王伟"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_results_only_from_what_the_user_may_see(users, people):
    assert _names(search.search_customers(users["rep"], "王伟")) == {"王伟明"}
    assert _names(search.search_customers(users["rep_b"], "王伟")) == {"王伟 Hidden"}
    assert _names(search.search_customers(users["rep2"], "王伟")) == set()
    assert _names(search.search_customers(users["admin"], "王伟")) == {"王伟明", "王伟 Hidden"}


def test_analysts_get_no_personal_results_but_tags(users, people, browser_for):
    results = search.search_customers(users["analyst"], "王伟")
    assert results.customers == [] and not results.personal
    assert search.search_customers(users["analyst"], "展会").tags == ["展会2024"]
    body = browser_for(users["analyst"]).get("/search/", {"q": "王伟"}, headers={"HX-Request": "true"}).content.decode()
    assert "王伟" not in body.replace('value="王伟"', "")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("伟明", {"王伟明"}),  # two Chinese characters in the middle of a name
        ("王", set()),  # one character is too short to search
        ("138 1234 5678", {"王伟明"}),  # a phone written with spaces
        ("+86 138-1234-5678", {"王伟明"}),
        ("12345", {"王伟明"}),  # a fragment
        ("weiming.w", {"王伟明"}),  # an e-mail prefix
        ("华信", {"王伟明"}),  # a Chinese company word
        ("acme", {"Alice Smith"}),  # a Latin company word, any case
        ("ALICE sm", {"Alice Smith"}),  # every term must match
        ("alice 王伟", set()),
        ("wxid_weim", {"王伟明"}),
        ("%", set()),
        ("_a", set()),  # LIKE wildcards are literal
    ],
)
def test_what_the_search_finds(users, people, query, expected):
    assert _names(search.search_customers(users["rep"], query)) == expected


def test_terms_and_bigrams():
    assert search_query.terms("  王伟  ZHANG  王伟 ") == ["王伟", "zhang"]
    assert search_query.terms("+86 (138) 1234-5678") == ["8613812345678"]
    assert search_query.terms("a") == []
    assert search_query.cjk_bigrams("王伟明 abc 科技") == ["伟明", "王伟", "科技"]
    assert search_query.cjk_bigrams("abc 王") == []


def test_more_than_top_results_says_more_and_ranks_name_prefix_first(users, make_customer):
    for i in range(search.TOP + 2):
        make_customer(users["rep"], display_name=f"Client {i} Zhao", company="Zhao Holdings")
    make_customer(users["rep"], display_name="Zhao Lei")
    results = search.search_customers(users["rep"], "zhao")
    assert len(results.customers) == search.TOP and results.more
    # Ranking applies to the rows fetched: any name starting with the query comes before the others.
    starts = [c.display_name.lower().startswith("zhao") for c in results.customers]
    assert starts == sorted(starts, reverse=True)


def test_fragment_page_and_see_all_link(users, people, browser_for):
    browser = browser_for(users["rep"])
    fragment = browser.get("/search/", {"q": "伟明"}, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert f'href="/customers/{people["wang"].pk}/"' in body
    assert "/customers/?q=%E4%BC%9F%E6%98%8E" in body  # "see all" goes to the list filtered by q
    assert "展会2024" not in body
    page = browser.get("/search/", {"q": "展会"})
    assert (
        page.status_code == 200
        and "<html" in page.content.decode()
        and "tag=%E5%B1%95%E4%BC%9A2024" in page.content.decode()
    )
    short = browser.get("/search/", {"q": "王"}, headers={"HX-Request": "true"}).content.decode()
    assert "at least 2 characters" in short
    assert browser.get("/search/", {"q": "\x00王伟"}).status_code == 200


def test_header_has_the_live_search_box(users, browser_for):
    page = browser_for(users["rep"]).get("/").content.decode()
    assert 'data-testid="header-search"' in page and 'hx-get="/search/"' in page
    assert 'id="search-results"' in page and 'role="search"' in page


def test_query_count_is_fixed(users, people, browser_for, make_customer, django_assert_max_num_queries):
    for i in range(12):
        make_customer(users["rep"], display_name=f"王伟{i}号")
    browser = browser_for(users["rep"])
    browser.get("/search/", {"q": "王伟"}, headers={"HX-Request": "true"})
    with django_assert_max_num_queries(6):
        response = browser.get("/search/", {"q": "王伟"}, headers={"HX-Request": "true"})
    assert response.status_code == 200


def test_postgresql_uses_the_bigram_filter(users, people, vendor):
    sql = str(search.customer_queryset(users["rep"], "王伟").query)
    if vendor == "postgresql":
        assert "guanxi_cjk_bigrams" in sql and "LIMIT" not in sql and "ORDER BY" not in sql
    else:
        assert "guanxi_cjk_bigrams" not in sql
