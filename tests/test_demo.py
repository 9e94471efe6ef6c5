from datetime import date, timedelta

import pytest
from django.db.models import Count, Max

from guanxi import demo
from guanxi.accounts.models import Team, User
from guanxi.commerce.models import Order
from guanxi.core.models import AuditEntry, Event
from guanxi.customers.models import Customer

pytestmark = pytest.mark.slow


@pytest.mark.django_db
def test_demo_company_is_complete_and_matches_the_cdnow_sample():
    today = date(2026, 11, 23)
    summary = demo.load(seed=7, today=today)
    purchases = demo.read_cdnow()
    assert summary["customers"] == Customer.objects.count() == len({row[0] for row in purchases}) == 2357
    assert summary["orders"] == Order.objects.count() == len(purchases) == 6919
    assert Team.objects.count() == 3
    roles = dict(User.objects.values_list("role").annotate(n=Count("id")))
    assert roles == {"admin": 1, "manager": 1, "sales": 6, "support": 3, "analyst": 1}
    assert Team.objects.filter(managers__role="manager").count() == 3
    # The CDNOW log is shifted so that its last purchase (1998-06-30) falls on yesterday.
    last = Order.objects.aggregate(last=Max("ordered_at"))["last"]
    assert last.astimezone(User.objects.first().date_joined.tzinfo).date() in {
        today - timedelta(days=1),
        today,
    }
    total = sum(row[3] for row in purchases)
    assert sum(Order.objects.values_list("amount", flat=True)) == total
    # Both languages' names, and every customer's trail as if created one by one.
    names = list(Customer.objects.values_list("display_name", flat=True))
    assert any(demo_has_cjk(n) for n in names) and any(n.isascii() for n in names)
    assert Event.objects.filter(type="customer.created").count() == 2357
    assert AuditEntry.objects.filter(subject_type="commerce.order").count() == 6919


def demo_has_cjk(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.django_db
def test_demo_is_deterministic_for_a_seed_and_refuses_a_full_database():
    demo.load(seed=3, today=date(2026, 1, 1), limit=150)
    assert Customer.objects.count() == 150
    first = list(Customer.objects.order_by("id").values_list("display_name", "phones", "owner__username")[:50])
    with pytest.raises(RuntimeError):
        demo.load(seed=3, limit=150)
    from guanxi.commerce.models import OrderLine

    OrderLine.objects.all().delete()
    Order.objects.all().delete()
    Customer.tags.through.objects.all().delete()
    Customer.objects.all().delete()
    User.objects.all().delete()
    demo.load(seed=3, today=date(2026, 1, 1), limit=150)
    again = list(Customer.objects.order_by("id").values_list("display_name", "phones", "owner__username")[:50])
    assert again == first
