"""Deals in the rest of Guanxi: the timeline, personal data, merges, automation triggers."""

from guanxi.core.models import Event
from guanxi.deals import services
from guanxi.deals.models import Deal


def test_timeline_source_lists_stage_changes_for_those_who_see_the_deal(users, make_customer, make_deal, stages):
    from guanxi.engagement import timeline

    customer = make_customer(users["rep"])
    deal = make_deal(users["rep"], customer, title="Timeline deal")
    services.win_deal(actor=users["rep"], deal_id=deal.pk)
    source = timeline._sources["deals"]
    titles = [item.title for item in source.fetch(users["rep"], customer, before=None, limit=10)]
    assert titles == ["Deal won: Timeline deal", "Deal opened: Timeline deal (Qualification)"]
    assert source.fetch(users["rep2"], customer, before=None, limit=10) == []


def test_personal_data_export_and_erasure(users, make_customer, make_deal):
    from guanxi.customers import personal_data

    customer = make_customer(users["rep"])
    make_deal(users["rep"], customer, title="Wang family order")
    exported = personal_data.exporters()["deals"](customer)
    assert exported[0]["title"] == "Wang family order"
    personal_data.erasers()["deals"](customer, ["Wang"])
    assert Deal.objects.get(customer=customer).title == "Deal"


def test_merge_moves_deals_to_the_survivor_and_undo_moves_them_back(users, make_customer, make_deal):
    from guanxi.customers.merge import merge_customers, undo_merge

    survivor, loser = make_customer(users["rep"]), make_customer(users["rep"])
    deal = make_deal(users["rep"], loser)
    record = merge_customers(
        actor=users["rep"],
        survivor_id=survivor.pk,
        loser_id=loser.pk,
        survivor_version=survivor.version,
        loser_version=loser.version,
    )
    assert Deal.objects.get(pk=deal.pk).customer_id == survivor.pk
    undo_merge(actor=users["rep"], merge_id=record.pk)
    assert Deal.objects.get(pk=deal.pk).customer_id == loser.pk


def test_triggers_registered_and_events_carry_the_customer(users, make_customer, make_deal, reason):
    from guanxi.automation import triggers

    for name in ("deal.created", "deal.stage_changed", "deal.won", "deal.lost"):
        assert triggers.known(name)
    customer = make_customer(users["rep"])
    deal = make_deal(users["rep"], customer)
    services.lose_deal(actor=users["rep"], deal_id=deal.pk, lost_reason_id=reason.pk)
    for event in Event.objects.filter(type__startswith="deal."):
        assert event.payload["customer_id"] == customer.pk
    assert Event.objects.filter(type="deal.lost").count() == 1


def test_deleted_customer_hides_its_deals(users, make_customer, make_deal):
    from guanxi.deals import selectors

    customer = make_customer(users["rep"])
    make_deal(users["rep"], customer)
    type(customer).objects.filter(pk=customer.pk).update(deleted_at=customer.created_at)
    assert not selectors.visible_deals(users["rep"]).exists()
    assert not selectors.visible_deals(users["admin"]).exists()
