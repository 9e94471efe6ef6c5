"""Silent customers: quiet for longer than their own usual purchase interval, biggest CLV first, in scope."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.followups import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet(users, make_customer, score, order):
    """Customers of rep: two silent ones (different CLV), one recently ordered, one single-purchase."""

    def make(owner, name, *, last_order_days, recency=60.0, frequency=3, clv="100"):
        customer = make_customer(owner, display_name=name)
        score(customer, recency_days=recency, frequency=frequency, clv=Decimal(clv))
        order(customer, days_ago=last_order_days)
        return customer

    rep = users["rep"]
    return {
        "small": make(rep, "Small", last_order_days=40, clv="100"),  # usual 20 days, silent 40
        "big": make(rep, "Big", last_order_days=30, clv="900"),  # usual 20 days, silent 30
        "recent": make(rep, "Recent", last_order_days=5, clv="5000"),  # usual 20, silent 5
        "once": make(rep, "Once", last_order_days=300, frequency=0, recency=0, clv="50"),
        "other_rep": make(users["rep_b"], "Team B", last_order_days=90, clv="2000"),
    }


def test_silent_customers_order_and_scope(users, quiet):
    names = [c.display_name for c in selectors.silent_customers(users["rep"])]
    assert names == ["Big", "Small"]
    big = selectors.silent_customers(users["rep"]).first()
    assert round(big.usual_interval_days) == 20 and 29 < big.silent_days < 31
    assert [c.display_name for c in selectors.silent_customers(users["rep_b"])] == ["Team B"]
    assert [c.display_name for c in selectors.silent_customers(users["admin"])] == ["Team B", "Big", "Small"]
    assert list(selectors.silent_customers(users["analyst"])) == []


def test_an_interaction_breaks_the_silence(users, quiet, log_call):
    log_call(users["rep"], quiet["big"], occurred_at=timezone.now() - timedelta(days=2))
    assert [c.display_name for c in selectors.silent_customers(users["rep"])] == ["Small"]


def test_silent_page_and_api(users, quiet, browser_for, api, django_assert_max_num_queries):
    client = browser_for(users["rep"])
    with django_assert_max_num_queries(12):
        body = client.get("/follow-ups/silent/").content.decode()
    assert body.index("Big") < body.index("Small") and "Recent" not in body and "Team B" not in body
    response = api(users["rep"]).get("/api/v1/follow-ups/silent")
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 2 and [i["display_name"] for i in data["items"]] == ["Big", "Small"]
    assert data["items"][0]["clv"] == "900.00" and data["items"][0]["usual_interval_days"] == 20.0
