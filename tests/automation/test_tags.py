"""customers.services.change_tags, which the add_tag / remove_tag actions call."""

import pytest

from guanxi.core.errors import GuanxiError
from guanxi.core.models import AuditEntry, Event
from guanxi.customers import services


def test_change_tags_checks_the_actor_then_adds_and_removes(users, make_customer):
    customer = make_customer(users["rep"], tags=["a", "b"])
    with pytest.raises(GuanxiError) as denied:
        services.change_tags(actor=users["rep_b"], customer_id=customer.pk, add=["x"])
    assert denied.value.status == 404
    with pytest.raises(GuanxiError) as invalid:
        services.change_tags(actor=users["rep"], customer_id=customer.pk, add=[""])
    assert invalid.value.status == 422 and "add.0" in invalid.value.details
    updated = services.change_tags(actor=None, customer_id=customer.pk, add=["c", "a"], remove=["b"], system=True)
    assert sorted(updated.tags.values_list("name", flat=True)) == ["a", "c"]
    assert updated.version == customer.version + 1
    event = Event.objects.filter(type="customer.updated", subject_id=customer.pk).latest("id")
    assert event.payload["fields"] == ["tags"] and event.payload["added"] == ["c"] and event.payload["removed"] == ["b"]
    assert AuditEntry.objects.get(event=event).changes == {"tags": [["a", "b"], ["a", "c"]]}
    again = services.change_tags(actor=users["rep"], customer_id=customer.pk, add=["a"], remove=["zz"])
    assert again.version == updated.version  # nothing changed: no event, no new version
