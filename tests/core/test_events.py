"""Every change writes exactly one event and one audit entry, in the same transaction as the change."""

import pytest
from django.db import transaction

from guanxi.core.context import Origin, origin
from guanxi.core.models import AppendOnlyError, AuditEntry, Event
from guanxi.customers import services
from guanxi.customers.models import Customer


def counts():
    return Event.objects.count(), AuditEntry.objects.count()


def test_create_update_delete_each_write_one_event_and_one_audit_entry(users):
    rep = users["rep"]
    before = counts()
    with origin(Origin(ip_address="203.0.113.9", via="api")):
        customer = services.create_customer(actor=rep, data={"display_name": "王小明", "phones": ["13812345678"]})
    assert counts() == (before[0] + 1, before[1] + 1)
    entry = AuditEntry.objects.get(subject_type="customers.customer", subject_id=customer.pk, action="create")
    assert entry.actor == rep and entry.ip_address == "203.0.113.9"
    assert entry.changes["display_name"] == [None, "王小明"]
    assert entry.event.type == "customer.created"

    services.update_customer(actor=rep, customer_id=customer.pk, version=1, data={"company": "星辰科技"})
    assert counts() == (before[0] + 2, before[1] + 2)
    update = AuditEntry.objects.get(subject_type="customers.customer", subject_id=customer.pk, action="update")
    assert update.changes == {"company": ["", "星辰科技"]}

    services.delete_customer(actor=rep, customer_id=customer.pk, version=2)
    assert counts() == (before[0] + 3, before[1] + 3)
    assert (
        Event.objects.filter(subject_type="customers.customer", subject_id=customer.pk)
        .values_list("type", flat=True)
        .order_by("id")[2]
        == "customer.deleted"
    )


def test_an_update_that_changes_nothing_writes_nothing(users, make_customer):
    customer = make_customer(users["rep"], display_name="Same", company="ACME")
    before = counts()
    result = services.update_customer(actor=users["rep"], customer_id=customer.pk, version=1, data={"company": "ACME"})
    assert result.version == 1
    assert counts() == before


def test_an_exception_after_the_write_rolls_back_change_event_and_audit(users):
    before = counts()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.create_customer(actor=users["rep"], data={"display_name": "Rolled back"})
        raise RuntimeError("boom after the write")
    assert counts() == before
    assert not Customer.objects.filter(display_name="Rolled back").exists()


def test_events_and_audit_entries_are_append_only(users, make_customer):
    make_customer(users["rep"], display_name="X")
    event = Event.objects.latest("id")
    event.type = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.latest("id").delete()


def test_a_subscriber_runs_in_the_same_transaction_and_its_failure_rolls_the_change_back(users, monkeypatch):
    from guanxi.core import events

    monkeypatch.setattr(events, "_handlers", {})
    seen = []
    events.subscribe("customer.created", lambda event: seen.append((event.type, event.subject_id)))
    customer = services.create_customer(actor=users["rep"], data={"display_name": "Heard"})
    assert seen == [("customer.created", customer.pk)]

    def refuse(event):
        raise RuntimeError("handler refused")

    events.subscribe("customer.created", refuse)
    before = counts()
    with pytest.raises(RuntimeError, match="handler refused"):
        services.create_customer(actor=users["rep"], data={"display_name": "Refused"})
    assert counts() == before
    assert not Customer.objects.filter(display_name="Refused").exists()
