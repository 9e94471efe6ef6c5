"""The daily auto-release job: warning N-3 days before, release after N idle days, once per spell, protection,
activity from orders and registered events, the CLI and the task."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from guanxi.commerce.models import Order
from guanxi.core import events
from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer
from guanxi.notifications.models import Notification
from guanxi.ownership import activity, services
from guanxi.ownership.models import OwnershipChange, ReleaseWarning

DAY0 = date(2026, 3, 1)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


@pytest.fixture
def idle_customer(users, make_customer, rule):
    """A customer of rep whose last activity (creation and ownership) was on DAY0; rule: release after 10 days."""
    rule(release_after_days=10, warning_days=3)

    def make(name="Idle", owner=None):
        customer = make_customer(owner or users["rep"], display_name=name)
        Customer.objects.filter(pk=customer.pk).update(created_at=at(DAY0))
        OwnershipChange.objects.filter(customer=customer).update(at=at(DAY0))
        return customer

    return make


def test_warns_three_days_before_then_releases(users, idle_customer):
    customer = idle_customer()
    assert services.release_idle_customers(DAY0 + timedelta(days=6)).warned == []
    summary = services.release_idle_customers(DAY0 + timedelta(days=7))
    assert summary.warned == [customer.pk] and summary.released == []
    (warning,) = Notification.objects.filter(user=users["rep"], kind="ownership.release_warning")
    assert (DAY0 + timedelta(days=10)).isoformat() in warning.text
    # Once per spell: the next days add no second warning.
    assert services.release_idle_customers(DAY0 + timedelta(days=8)).warned == []
    assert services.release_idle_customers(DAY0 + timedelta(days=9)).warned == []
    assert Customer.objects.get(pk=customer.pk).owner_id == users["rep"].pk

    summary = services.release_idle_customers(DAY0 + timedelta(days=10))
    assert summary.released == [customer.pk]
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.owner_id is None and stored.team_id == users["rep"].team_id
    change = OwnershipChange.objects.filter(customer=customer).order_by("-at", "-id").first()
    assert (change.reason, change.from_user_id, change.actor_id) == ("auto_released", users["rep"].pk, None)
    audit = AuditEntry.objects.filter(subject_id=customer.pk, event__type="customer.owner_changed").get()
    assert audit.changes == {"owner_id": [users["rep"].pk, None]} and audit.actor_label == "system"
    assert Notification.objects.filter(user=users["rep"], kind="ownership.auto_released").count() == 1
    # Idempotent: the same day again releases and notifies nothing more.
    again = services.release_idle_customers(DAY0 + timedelta(days=10))
    assert again.released == [] and again.warned == []
    assert Notification.objects.filter(user=users["rep"]).count() == 2


def test_an_order_restarts_the_clock_and_a_new_spell_warns_again(users, idle_customer):
    customer = idle_customer()
    services.release_idle_customers(DAY0 + timedelta(days=7))
    Order.objects.create(
        customer=customer,
        external_id="A-1",
        ordered_at=at(DAY0 + timedelta(days=8)),
        amount=Decimal(10),
        currency="CNY",
    )
    assert services.release_idle_customers(DAY0 + timedelta(days=10)).released == []
    assert services.release_idle_customers(DAY0 + timedelta(days=15)).warned == [customer.pk]
    assert ReleaseWarning.objects.filter(customer=customer).count() == 2
    assert services.release_idle_customers(DAY0 + timedelta(days=18)).released == [customer.pk]


def test_registered_activity_events_count_and_others_do_not(users, idle_customer):
    customer = idle_customer()
    with transaction.atomic():
        events.record("test.follow_up", subject=customer, actor=users["rep"])
        events.record("test.unrelated", subject=customer, actor=users["rep"])
    Customer.objects.filter(pk=customer.pk).update(created_at=at(DAY0))
    from guanxi.core.models import Event

    Event.objects.filter(type="test.follow_up").update(occurred_at=at(DAY0 + timedelta(days=5)))
    Event.objects.filter(type="test.unrelated").update(occurred_at=at(DAY0 + timedelta(days=9)))
    assert services.release_idle_customers(DAY0 + timedelta(days=10)).released == [customer.pk]

    other = idle_customer("Followed up")
    with transaction.atomic():
        events.record("test.follow_up", subject=other, actor=users["rep"])
    Event.objects.filter(type="test.follow_up", subject_id=other.pk).update(occurred_at=at(DAY0 + timedelta(days=5)))
    activity.register_activity_event("test.follow_up")
    try:
        assert services.release_idle_customers(DAY0 + timedelta(days=10)).released == []
        assert services.release_idle_customers(DAY0 + timedelta(days=15)).released == [other.pk]
    finally:
        activity.unregister_activity_event("test.follow_up")


def test_a_logged_interaction_restarts_the_clock(users, idle_customer):
    from guanxi.engagement.services import log_interaction

    customer = idle_customer()
    call = log_interaction(actor=users["rep"], customer_id=customer.pk, channel="phone", subject="Check-in")
    call.__class__.objects.filter(pk=call.pk).update(occurred_at=at(DAY0 + timedelta(days=5)))
    assert services.release_idle_customers(DAY0 + timedelta(days=10)).released == []
    assert services.release_idle_customers(DAY0 + timedelta(days=12)).warned == [customer.pk]
    assert services.release_idle_customers(DAY0 + timedelta(days=15)).released == [customer.pk]


def test_protection_keeps_a_fresh_claim(users, pool_customer, rule):
    rule(release_after_days=1, warning_days=0, protection_days=5, daily_claim_quota=None)
    customer = pool_customer()
    services.claim_customer(actor=users["rep"], customer_id=customer.pk)
    today = timezone.localdate()
    assert services.release_idle_customers(today + timedelta(days=2)).released == []
    six_days_ago = timezone.now() - timedelta(days=6)
    OwnershipChange.objects.filter(customer=customer).update(at=six_days_ago)
    Customer.objects.filter(pk=customer.pk).update(created_at=six_days_ago)
    assert services.release_idle_customers(today).released == [customer.pk]


def test_teams_without_release_days_are_left_alone(users, make_customer):
    customer = make_customer(users["rep"])
    Customer.objects.filter(pk=customer.pk).update(created_at=at(DAY0))
    OwnershipChange.objects.filter(customer=customer).update(at=at(DAY0))
    summary = services.release_idle_customers(DAY0 + timedelta(days=400))
    assert summary.checked == 0 and Customer.objects.get(pk=customer.pk).owner_id == users["rep"].pk


def test_cli_runs_the_job(users, idle_customer):
    from typer.testing import CliRunner

    from guanxi.commands import app

    customer = idle_customer()
    result = CliRunner().invoke(app, ["ownership", "release-idle", "--today", (DAY0 + timedelta(days=11)).isoformat()])
    assert result.exit_code == 0, result.output
    assert "released 1 customers" in result.output
    assert Customer.objects.get(pk=customer.pk).owner_id is None
    bad = CliRunner().invoke(app, ["ownership", "release-idle", "--today", "yesterday"])
    assert bad.exit_code == 1


def test_the_task_runs_the_job_and_can_be_queued(users, idle_customer):
    from guanxi.ownership.tasks import release_idle_customers_task

    customer = idle_customer()
    assert release_idle_customers_task.call((DAY0 + timedelta(days=11)).isoformat()) == {
        "today": "2026-03-12",
        "released": 1,
        "warned": 0,
    }
    assert Customer.objects.get(pk=customer.pk).owner_id is None
    queued = release_idle_customers_task.enqueue(None)
    assert queued.status == "READY"
