from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, Max

from guanxi import demo
from guanxi.accounts.models import Team, User
from guanxi.commerce.models import Order, OrderLine, Product
from guanxi.core.models import AuditEntry, Event
from guanxi.customers.models import Customer
from guanxi.engagement.models import Interaction
from guanxi.followups.models import FollowUp
from guanxi.lifecycle.models import CustomerStage, StageTransition

pytestmark = pytest.mark.slow


@pytest.mark.django_db
def test_demo_company_is_complete_and_matches_the_cdnow_sample():
    today = date(2026, 11, 23)
    summary = demo.load(seed=7, today=today)
    purchases = demo.read_cdnow()
    buyers = Customer.objects.filter(orders__isnull=False).distinct().count()
    assert buyers == len({row[0] for row in purchases}) == 2357
    assert summary["customers"] == Customer.objects.count() == 2357 + demo.LEADS
    # The CDNOW orders; the win-back campaign's demo adds the returns it measures (DEMO-WB-...).
    cdnow_orders = Order.objects.exclude(external_id__startswith="DEMO-WB-").count()
    assert summary["orders"] == cdnow_orders == len(purchases) == 6919
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
    assert sum(Order.objects.exclude(external_id__startswith="DEMO-WB-").values_list("amount", flat=True)) == total
    # Both languages' names, and every customer's trail as if created one by one.
    names = list(Customer.objects.values_list("display_name", flat=True))
    assert any(demo_has_cjk(n) for n in names) and any(n.isascii() for n in names)
    assert Event.objects.filter(type="customer.created").count() == 2357 + demo.LEADS
    assert AuditEntry.objects.filter(subject_type="commerce.order").count() == 6919
    _check_catalogue_and_lines()


def _check_catalogue_and_lines():
    """Orders have lines over a bilingual catalogue, adding up to the real CDNOW amounts, with co-purchase
    structure: a tea set's buyers come back for tea far more often than other customers buy it."""
    products = list(Product.objects.all())
    assert 20 <= len(products) <= 40
    assert 5 <= len({p.category for p in products}) <= 6
    assert all(demo_has_cjk(p.name) and p.name[0].isascii() for p in products)
    line_totals = {}
    for order_id, quantity, price in OrderLine.objects.values_list("order_id", "quantity", "unit_price"):
        assert quantity > 0 and price >= 0
        line_totals[order_id] = line_totals.get(order_id, Decimal(0)) + quantity * price
    amounts = dict(Order.objects.exclude(external_id__startswith="DEMO-WB-").values_list("id", "amount"))
    assert line_totals.keys() == amounts.keys()
    assert all(line_totals[k] == amounts[k] for k in amounts)
    assert OrderLine.objects.values("product").distinct().count() == len(products)

    first_order = {}
    for customer_id, ordered_at in Order.objects.order_by("ordered_at").values_list("customer_id", "ordered_at"):
        first_order.setdefault(customer_id, ordered_at)
    tea_set_buyers, tea_later = set(), set()
    for customer_id, ordered_at, sku in OrderLine.objects.values_list(
        "order__customer_id", "order__ordered_at", "product__sku"
    ):
        if sku == "TEA-SET":
            tea_set_buyers.add(customer_id)
        elif sku in {"TEA-LJ", "TEA-PE", "TEA-OL", "TEA-JS"} and ordered_at > first_order[customer_id]:
            tea_later.add(customer_id)
    repeat = set(
        Order.objects.values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("customer_id", flat=True)
    )
    with_set = len(tea_later & tea_set_buyers & repeat) / max(1, len(tea_set_buyers & repeat))
    without = len(tea_later & (repeat - tea_set_buyers)) / max(1, len(repeat - tea_set_buyers))
    assert with_set > 2 * without


def demo_has_cjk(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class _Undo(Exception):
    pass


@pytest.mark.django_db
def test_demo_is_deterministic_for_a_seed_and_refuses_a_full_database():
    # The first load is rolled back (a savepoint) rather than deleted table by table: every app adds demo rows.
    try:
        with transaction.atomic():
            demo.load(seed=3, today=date(2026, 1, 1), limit=150)
            assert Customer.objects.filter(orders__isnull=False).distinct().count() == 150
            first = list(Customer.objects.order_by("id").values_list("display_name", "phones", "owner__username")[:50])
            first_lines = _lines()
            with pytest.raises(RuntimeError):
                demo.load(seed=3, limit=150)
            raise _Undo
    except _Undo:
        pass
    assert not Customer.objects.exists()
    demo.load(seed=3, today=date(2026, 1, 1), limit=150)
    again = list(Customer.objects.order_by("id").values_list("display_name", "phones", "owner__username")[:50])
    assert again == first
    assert _lines() == first_lines


def _lines():
    return list(
        OrderLine.objects.order_by("order__external_id", "id").values_list(
            "order__external_id", "product__sku", "quantity", "unit_price"
        )
    )


@pytest.mark.django_db
def test_demo_relationship_history_covers_every_channel_follow_up_state_and_a_consistent_stage_history():
    today = date(2026, 11, 23)
    demo.load(seed=5, today=today, limit=400)
    assert set(Interaction.objects.values_list("channel", flat=True)) == set(Interaction.Channel.values)
    assert not Interaction.objects.filter(occurred_at__date__gt=today).exists()
    open_tasks = FollowUp.objects.filter(status=FollowUp.Status.OPEN)
    assert open_tasks.filter(due_on__lt=today).exists()  # overdue
    assert open_tasks.filter(due_on=today).exists()
    assert open_tasks.filter(due_on__gt=today).exists()
    done = FollowUp.objects.filter(status=FollowUp.Status.DONE)
    assert done.exists()
    for follow_up in done.select_related("interaction"):
        assert follow_up.interaction.customer_id == follow_up.customer_id
        assert follow_up.completed_at == follow_up.interaction.occurred_at
    # Leads have no orders and are potential customers; every customer's stage history is a chain that ends in
    # the current stage, since the time of the last transition.
    leads = Customer.objects.filter(orders__isnull=True)
    assert leads.count() == demo.LEADS
    assert set(CustomerStage.objects.filter(customer__in=leads).values_list("stage", flat=True)) == {"potential"}
    stages = {s.customer_id: s for s in CustomerStage.objects.all()}
    assert len(stages) == Customer.objects.count()
    chains = {}
    for customer_id, before, after, at in (
        StageTransition.objects.filter(view="stage")
        .order_by("customer_id", "at", "id")
        .values_list("customer_id", "from_stage", "to_stage", "at")
    ):
        previous = chains.get(customer_id)
        assert before == (previous[0] if previous else "")
        chains[customer_id] = (after, at)
    assert chains.keys() == stages.keys()
    for customer_id, (last, at) in chains.items():
        assert stages[customer_id].stage == last
        assert stages[customer_id].since == at
    assert {"potential", "new", "churned"} <= {s.stage for s in stages.values()} | {
        to for to in StageTransition.objects.values_list("to_stage", flat=True)
    }
