from decimal import Decimal

import pytest

from guanxi.core.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from guanxi.core.models import Event
from guanxi.deals import services
from guanxi.deals.models import Deal, DealStageChange


def test_seeded_pipeline_and_lost_reasons(stages):
    from guanxi.deals.models import LostReason

    assert [(k, s.probability, s.kind) for k, s in sorted(stages.items(), key=lambda kv: kv[1].order)] == [
        ("qualification", 10, "open"),
        ("needs_analysis", 25, "open"),
        ("proposal", 50, "open"),
        ("negotiation", 75, "open"),
        ("won", 100, "won"),
        ("lost", 0, "lost"),
    ]
    assert stages["proposal"].name_zh_hans
    assert set(LostReason.objects.values_list("key", flat=True)) == {
        "price",
        "competitor",
        "no_budget",
        "no_decision",
        "timing",
        "product_fit",
    }


def test_support_and_analyst_cannot_create(users, make_customer, make_deal):
    customer = make_customer(users["rep"])
    for role in ("support", "analyst"):
        with pytest.raises(PermissionDenied):
            make_deal(users[role], customer)


def test_rep_creates_only_for_customers_they_can_edit(users, make_customer, make_deal):
    other = make_customer(users["rep2"])
    with pytest.raises(NotFound):
        make_deal(users["rep"], other)
    assert not Deal.objects.exists()


def test_rep_cannot_give_the_deal_to_someone_else(users, make_customer, make_deal):
    customer = make_customer(users["rep"])
    with pytest.raises(PermissionDenied):
        make_deal(users["rep"], customer, owner_id=users["rep2"].pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "x" * 201),
        ("value", "-1"),
        ("value", "abc"),
        ("currency", "EURO"),
        ("probability", 101),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(users, make_customer, make_deal, field, value):
    customer = make_customer(users["rep"])
    with pytest.raises(ValidationFailed) as caught:
        make_deal(users["rep"], customer, **{field: value})
    assert field in caught.value.details


def test_create_records_history_event_and_defaults(users, make_customer, make_deal, stages):
    customer = make_customer(users["rep"])
    deal = make_deal(users["rep"], customer, value="1234.5", currency="usd")
    assert deal.stage == stages["qualification"]
    assert deal.probability == 10
    assert deal.value == Decimal("1234.50")
    assert deal.currency == "USD"
    assert deal.owner == users["rep"] and deal.team == users["rep"].team
    change = DealStageChange.objects.get(deal=deal)
    assert change.from_stage is None and change.to_stage == stages["qualification"]
    event = Event.objects.get(type="deal.created")
    assert event.payload["customer_id"] == customer.pk and event.payload["stage"] == "qualification"


def test_manager_assigns_within_team_only(users, make_customer, make_deal):
    customer = make_customer(users["rep"])
    deal = make_deal(users["manager"], customer, owner_id=users["rep2"].pk)
    assert deal.owner == users["rep2"]
    with pytest.raises(ValidationFailed):
        make_deal(users["manager"], customer, owner_id=users["rep_b"].pk)


def test_move_records_history_and_checks_version(users, make_customer, make_deal, stages):
    customer = make_customer(users["rep"])
    deal = make_deal(users["rep"], customer)
    moved = services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=stages["proposal"].pk, version=1)
    assert moved.stage == stages["proposal"] and moved.probability == 50 and moved.version == 2
    with pytest.raises(StaleVersion):
        services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=stages["negotiation"].pk, version=1)
    assert Deal.objects.get(pk=deal.pk).stage == stages["proposal"]
    assert list(DealStageChange.objects.filter(deal=deal).values_list("to_stage__key", flat=True)) == [
        "qualification",
        "proposal",
    ]
    assert Event.objects.filter(type="deal.stage_changed", subject_id=deal.pk).count() == 1


def test_rep_cannot_move_another_reps_deal(users, make_customer, make_deal, stages):
    customer = make_customer(users["rep2"])
    deal = make_deal(users["rep2"], customer)
    with pytest.raises(NotFound):
        services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=stages["proposal"].pk, version=1)
    # Even when the customer is shared with them, the deal stays the owner's.
    from guanxi.customers.models import CustomerShare

    CustomerShare.objects.create(customer=customer, user=users["rep"])
    with pytest.raises(NotFound):
        services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=stages["proposal"].pk, version=1)
    # Their manager may.
    moved = services.move_deal(actor=users["manager"], deal_id=deal.pk, stage_id=stages["proposal"].pk, version=1)
    assert moved.stage == stages["proposal"]


def test_move_to_another_pipelines_stage_is_refused(users, make_customer, make_deal):
    other = services.create_pipeline(actor=users["admin"], data={"name": "Renewals"})
    won_elsewhere = other.stages.get(kind="won")
    deal = make_deal(users["rep"], make_customer(users["rep"]))
    with pytest.raises(ValidationFailed):
        services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=won_elsewhere.pk, version=1)


def test_lost_needs_a_reason(users, make_customer, make_deal, stages, reason):
    deal = make_deal(users["rep"], make_customer(users["rep"]))
    with pytest.raises(ValidationFailed) as caught:
        services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=stages["lost"].pk, version=1)
    assert "lost_reason_id" in caught.value.details
    lost = services.move_deal(
        actor=users["rep"], deal_id=deal.pk, stage_id=stages["lost"].pk, version=1, lost_reason_id=reason.pk
    )
    assert lost.lost_reason == reason and lost.lost_at is not None and lost.probability == 0
    assert Event.objects.get(type="deal.lost").payload["lost_reason"] == "price"


def test_win_without_order_when_pipeline_does_not_record(users, make_customer, make_deal):
    deal = make_deal(users["rep"], make_customer(users["rep"]))
    won = services.win_deal(actor=users["rep"], deal_id=deal.pk, version=1)
    assert won.won_at is not None and won.order is None and won.probability == 100
    assert Event.objects.filter(type="deal.won").count() == 1


def test_win_places_the_order_once_and_loyalty_credits_points(users, make_customer, make_deal, pipeline):
    from guanxi.commerce.models import Order
    from guanxi.loyalty.models import Membership

    pipeline.record_order_on_win = True
    pipeline.save()
    customer = make_customer(users["rep"])
    deal = make_deal(users["rep"], customer, value="5000.00")
    won = services.win_deal(actor=users["rep"], deal_id=deal.pk, version=1)
    order = Order.objects.get(external_id=f"DEAL-{deal.pk}")
    assert won.order == order and order.amount == Decimal("5000.00") and order.customer == customer
    # Loyalty earned on order.placed in the same transaction.
    assert Membership.objects.get(customer=customer).balance > 0
    # Idempotent: winning again, or reopening and winning again, places no second order.
    again = services.win_deal(actor=users["rep"], deal_id=deal.pk)
    assert again.version == won.version
    reopened = services.reopen_deal(actor=users["rep"], deal_id=deal.pk, version=won.version)
    assert reopened.won_at is None and reopened.stage.key == "qualification"
    rewon = services.win_deal(actor=users["rep"], deal_id=deal.pk, version=reopened.version)
    assert rewon.order == order
    assert Order.objects.filter(customer=customer).count() == 1
    assert Event.objects.filter(type="order.placed").count() == 1
    assert Event.objects.filter(type="deal.reopened").count() == 1


def test_win_rolls_back_when_the_order_fails(users, make_customer, make_deal, pipeline):
    """The order and the won stage commit together: a refused order leaves the deal open."""
    from guanxi.commerce.models import Order
    from guanxi.core.errors import GuanxiError

    pipeline.record_order_on_win = True
    pipeline.save()
    customer = make_customer(users["rep"])
    deal = make_deal(users["rep"], customer)
    # A currency commerce refuses (the deal's own validation is bypassed): place_order raises inside win_deal.
    Deal.objects.filter(pk=deal.pk).update(currency="U1D")
    with pytest.raises(GuanxiError):
        services.win_deal(actor=users["rep"], deal_id=deal.pk, version=1)
    fresh = Deal.objects.get(pk=deal.pk)
    assert fresh.stage.kind == "open" and fresh.won_at is None and fresh.version == 1
    assert not DealStageChange.objects.filter(deal=deal, to_stage__kind="won").exists()
    assert not Order.objects.filter(customer=customer).exists()


def test_update_checks_version_and_owner_rules(users, make_customer, make_deal):
    deal = make_deal(users["rep"], make_customer(users["rep"]))
    updated = services.update_deal(
        actor=users["rep"], deal_id=deal.pk, version=1, data={"value": "10", "probability": 30}
    )
    assert updated.value == Decimal("10.00") and updated.probability == 30 and updated.version == 2
    with pytest.raises(StaleVersion):
        services.update_deal(actor=users["rep"], deal_id=deal.pk, version=1, data={"title": "x"})
    with pytest.raises(PermissionDenied):
        services.update_deal(actor=users["rep"], deal_id=deal.pk, version=2, data={"owner_id": users["rep2"].pk})
    handed = services.update_deal(
        actor=users["manager"], deal_id=deal.pk, version=2, data={"owner_id": users["rep2"].pk}
    )
    assert handed.owner == users["rep2"]
    with pytest.raises(NotFound):
        services.update_deal(actor=users["rep"], deal_id=deal.pk, version=3, data={"title": "mine again"})


def test_stage_admin(users, pipeline, stages, make_deal, make_customer):
    with pytest.raises(PermissionDenied):
        services.create_stage(actor=users["manager"], pipeline_id=pipeline.pk, data={"key": "demo", "name": "Demo"})
    stage = services.create_stage(
        actor=users["admin"],
        pipeline_id=pipeline.pk,
        data={"key": "demo", "name": "Demo", "order": 35, "probability": 40},
    )
    services.update_stage(actor=users["admin"], stage_id=stage.pk, data={"name_zh_hans": "演示", "probability": 45})
    stage.refresh_from_db()
    assert stage.probability == 45 and stage.name_zh_hans == "演示"
    from guanxi.core.errors import Conflict

    with pytest.raises(Conflict):
        services.delete_stage(actor=users["admin"], stage_id=stages["won"].pk)
    deal = make_deal(users["rep"], make_customer(users["rep"]))
    services.move_deal(actor=users["rep"], deal_id=deal.pk, stage_id=stage.pk, version=1)
    with pytest.raises(Conflict):
        services.delete_stage(actor=users["admin"], stage_id=stage.pk)
    spare = services.create_stage(actor=users["admin"], pipeline_id=pipeline.pk, data={"key": "spare", "name": "Spare"})
    services.delete_stage(actor=users["admin"], stage_id=spare.pk)
    assert not pipeline.stages.filter(key="spare").exists()
