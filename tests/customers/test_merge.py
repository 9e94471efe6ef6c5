"""Merging customers: every related record moves, field choices apply, undo restores the exact previous state,
and nobody merges a customer they cannot change."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.commerce import services as orders
from guanxi.core.errors import StaleVersion
from guanxi.core.models import AuditEntry, Event
from guanxi.customers import merge, services
from guanxi.customers.errors import CustomerNotFound, IdentityConflict, MergeNotFound, UndoNotPossible
from guanxi.customers.models import Customer, CustomerShare, DuplicateCandidate, Identity, MergeRecord
from guanxi.segments.models import CustomerScore, CustomerScoreHistory, ScoreRun


def _order(actor, customer, number):
    order, _created = orders.place_order(
        actor=actor,
        data=orders.OrderData(
            customer_id=customer.pk,
            external_id=number,
            ordered_at=timezone.make_aware(datetime(2026, 1, 5, 10)),
            amount=Decimal("99.50"),
            currency="CNY",
        ),
    )
    return order


def _score(run, customer, clv):
    fields = dict(
        as_of=date(2026, 6, 1),
        segment="champions",
        abc_tier="A",
        value_tier="high",
        p_alive=0.9,
        expected_purchases_90d=1.5,
        expected_spend=100.0,
        clv=Decimal(clv),
    )
    for model in (CustomerScore, CustomerScoreHistory):
        model.objects.create(customer=customer, run=run, **_required(model, fields))


def _required(model, fields):
    """Fill the columns another app may add later (non-null, no default) so the test survives schema growth."""
    from django.db import models

    values = dict(fields)
    for field in model._meta.concrete_fields:
        if field.null or field.has_default() or field.primary_key or field.is_relation or field.name in values:
            continue
        if isinstance(field, models.DateTimeField):
            values[field.name] = timezone.now()
        elif isinstance(field, models.DateField):
            values[field.name] = date(2026, 6, 1)
        elif isinstance(field, models.DecimalField | models.FloatField | models.IntegerField):
            values[field.name] = 1
        elif isinstance(field, models.CharField | models.TextField):
            values[field.name] = field.choices[0][0] if field.choices else "x"
        elif isinstance(field, models.JSONField):
            values[field.name] = {}
    return values


def snapshot(*customers):
    """Both customers' stored columns and tags, and every row of every registered model that points at them."""
    ids = [c.pk for c in customers]
    state = {
        "customers": [merge.customer_state(c) for c in Customer.objects.filter(pk__in=ids).order_by("pk")],
        "candidates": list(DuplicateCandidate.objects.order_by("pk").values()),
    }
    for entry in merge.registered():
        rows = entry.model._base_manager.filter(**{f"{entry.customer_field}__in": ids}).order_by("pk")
        state[entry.model_label] = list(rows.values())
    return state


@pytest.fixture
def pair(users, make_customer):
    rep = users["rep"]
    survivor = make_customer(
        rep,
        display_name="王小明",
        emails=["xm@example.com"],
        phones=["13812345678"],
        company="",
        tags=["vip"],
        custom_fields={},
    )
    loser = make_customer(
        rep,
        display_name="王小明 (Shanghai)",
        emails=["xiaoming@work.example"],
        phones=["13900001111"],
        company="示例公司",
        wechat_id="wxm88",
        tags=["lead"],
    )
    services.update_customer(actor=rep, customer_id=loser.pk, version=loser.version, data={"external_ids": ["shop:42"]})
    services.share_customer(actor=rep, customer_id=loser.pk, user_id=users["rep2"].pk)
    services.share_customer(actor=rep, customer_id=survivor.pk, user_id=users["rep2"].pk)
    services.share_customer(actor=rep, customer_id=loser.pk, user_id=users["rep_b"].pk)
    _order(users["admin"], survivor, "S-1")
    _order(users["admin"], loser, "L-1")
    _order(users["admin"], loser, "L-2")
    run = ScoreRun.objects.create(started_at=timezone.now(), as_of=date(2026, 6, 1), status="succeeded")
    _score(run, survivor, "500.00")
    _score(run, loser, "120.00")
    DuplicateCandidate.objects.create(
        customer_a=survivor, customer_b=loser, probability=0.97, matched_fields=["name", "company"]
    )
    return Customer.objects.get(pk=survivor.pk), Customer.objects.get(pk=loser.pk)


def test_merge_moves_every_related_record_and_undo_restores_the_exact_state(users, pair):
    survivor, loser = pair
    rep = users["rep"]
    before = snapshot(survivor, loser)

    record = merge.merge_customers(
        actor=rep,
        survivor_id=survivor.pk,
        loser_id=loser.pk,
        field_choices={"display_name": "survivor", "tags": "union"},
        survivor_version=survivor.version,
        loser_version=loser.version,
    )

    survivor.refresh_from_db()
    loser.refresh_from_db()
    # Every related row of the loser is on the survivor now (or removed where the survivor had its own).
    assert sorted(o.external_id for o in survivor.orders.all()) == ["L-1", "L-2", "S-1"]
    assert not loser.orders.exists()
    assert set(Identity.objects.filter(customer=survivor).values_list("kind", "value")) == {
        ("email", "xm@example.com"),
        ("email", "xiaoming@work.example"),
        ("phone", "+8613812345678"),
        ("phone", "+8613900001111"),
        ("wechat", "wxm88"),
        ("external", "shop:42"),
    }
    assert not Identity.objects.filter(customer=loser).exists()
    assert set(CustomerShare.objects.filter(customer=survivor).values_list("user__username", flat=True)) == {
        "rep2",
        "rep_b",
    }
    assert not CustomerShare.objects.filter(customer=loser).exists()
    assert CustomerScore.objects.filter(customer=survivor).get().clv == Decimal("500.00")
    assert not CustomerScore.objects.filter(customer=loser).exists()  # re-scoring recomputes the survivor
    assert CustomerScoreHistory.objects.filter(customer=loser).count() == 1  # its own history stays with it
    # Fields: chosen or defaulted (blanks filled from the loser, contact lists and tags united).
    assert survivor.display_name == "王小明"
    assert survivor.company == "示例公司" and survivor.wechat_id == "wxm88"
    assert survivor.emails == ["xm@example.com", "xiaoming@work.example"]
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["lead", "vip"]
    assert loser.deleted_at is not None and loser.merged_into_id == survivor.pk
    assert DuplicateCandidate.objects.get().status == "merged"
    assert record.moved["commerce.Order"]["ids"] and record.removed["segments.CustomerScore"]
    merged_events = Event.objects.filter(type="customer.merged", subject_id=survivor.pk)
    assert merged_events.count() == 1
    assert AuditEntry.objects.filter(subject_id=loser.pk, action="delete", event__type="customer.merged_into").exists()
    assert AuditEntry.objects.filter(subject_id=survivor.pk, event__type="customer.merged").exists()

    merge.undo_merge(actor=rep, merge_id=record.pk)

    after = snapshot(survivor, loser)
    for key in before:
        assert after[key] == before[key], key
    assert MergeRecord.objects.get().undone_at is not None
    assert Event.objects.filter(type="customer.merge_undone").count() == 2
    with pytest.raises(UndoNotPossible):
        merge.undo_merge(actor=rep, merge_id=record.pk)


def test_a_rep_cannot_merge_a_customer_they_cannot_see(users, make_customer):
    mine = make_customer(users["rep"], display_name="Mine")
    theirs = make_customer(users["rep2"], display_name="Theirs")
    before = snapshot(mine, theirs)
    for survivor, loser in ((mine, theirs), (theirs, mine)):
        with pytest.raises(CustomerNotFound):
            merge.merge_customers(
                actor=users["rep"],
                survivor_id=survivor.pk,
                loser_id=loser.pk,
                survivor_version=survivor.version,
                loser_version=loser.version,
            )
    assert snapshot(mine, theirs) == before
    assert not MergeRecord.objects.exists()


def test_visible_but_not_editable_is_not_found_too(users, make_customer):
    """The analyst sees every customer (without personal data) but changes none: no merge, same 404."""
    a = make_customer(users["rep"], display_name="A")
    b = make_customer(users["rep"], display_name="B")
    with pytest.raises(CustomerNotFound):
        merge.merge_customers(
            actor=users["analyst"], survivor_id=a.pk, loser_id=b.pk, survivor_version=1, loser_version=1
        )


def test_stale_version_refuses_the_merge(users, make_customer):
    a = make_customer(users["rep"], display_name="A")
    b = make_customer(users["rep"], display_name="B")
    with pytest.raises(StaleVersion):
        merge.merge_customers(actor=users["rep"], survivor_id=a.pk, loser_id=b.pk, survivor_version=1, loser_version=9)
    assert Customer.objects.get(pk=b.pk).deleted_at is None


def test_undo_refused_when_the_survivor_changed_since(users, pair):
    survivor, loser = pair
    record = merge.merge_customers(
        actor=users["rep"],
        survivor_id=survivor.pk,
        loser_id=loser.pk,
        survivor_version=survivor.version,
        loser_version=loser.version,
    )
    survivor.refresh_from_db()
    services.update_customer(
        actor=users["rep"], customer_id=survivor.pk, version=survivor.version, data={"region": "华东"}
    )
    with pytest.raises(UndoNotPossible):
        merge.undo_merge(actor=users["rep"], merge_id=record.pk)
    assert Customer.objects.get(pk=loser.pk).merged_into_id == survivor.pk


def test_undo_by_someone_who_cannot_change_the_survivor_is_not_found(users, pair, make_user, teams):
    survivor, loser = pair
    record = merge.merge_customers(
        actor=users["rep"],
        survivor_id=survivor.pk,
        loser_id=loser.pk,
        survivor_version=survivor.version,
        loser_version=loser.version,
    )
    with pytest.raises(MergeNotFound):
        merge.undo_merge(actor=make_user("rep_c", "sales", teams[1]), merge_id=record.pk)


def test_field_choices_pick_the_losers_values_and_bad_choices_are_refused(users, make_customer):
    a = make_customer(users["rep"], display_name="Zhang Wei", company="Old Co", tags=["a"])
    b = make_customer(users["rep"], display_name="张伟", company="New Co", tags=["b"], profiling_opt_out=True)
    assert set(merge.conflicts(a, b)) >= {"display_name", "company", "tags", "profiling_opt_out"}
    with pytest.raises(services.CustomerInvalid):
        merge.merge_customers(
            actor=users["rep"],
            survivor_id=a.pk,
            loser_id=b.pk,
            field_choices={"owner_id": "loser"},
            survivor_version=1,
            loser_version=1,
        )
    merge.merge_customers(
        actor=users["rep"],
        survivor_id=a.pk,
        loser_id=b.pk,
        field_choices={"display_name": "loser", "company": "loser", "tags": "survivor"},
        survivor_version=1,
        loser_version=1,
    )
    a.refresh_from_db()
    assert (a.display_name, a.company, a.profiling_opt_out) == ("张伟", "New Co", True)
    assert list(a.tags.values_list("name", flat=True)) == ["a"]


def test_a_merged_away_customers_identities_are_free_again_only_after_undo_if_unused(users, make_customer):
    """After a merge the survivor holds the loser's phone: a new customer with it conflicts."""
    a = make_customer(users["rep"], display_name="A", phones=["13812345678"])
    b = make_customer(users["rep"], display_name="B", phones=["13900001111"])
    merge.merge_customers(actor=users["rep"], survivor_id=a.pk, loser_id=b.pk, survivor_version=1, loser_version=1)
    with pytest.raises(IdentityConflict):
        services.create_customer(actor=users["rep2"], data={"display_name": "C", "phones": ["139 0000 1111"]})


def test_registry_accepts_apps_added_later(users, make_customer):
    merge.register_related("customers.CustomerShare", unique_with=("user",))  # re-registering is harmless
    labels = [e.model_label for e in merge.registered()]
    assert labels.count("customers.CustomerShare") == 1
    merge.register_related("nosuchapp.Thing")  # an app not installed is skipped, not an error
    assert "nosuchapp.Thing" not in [e.model_label for e in merge.registered()]
    with pytest.raises(ValueError):
        merge.register_related("customers.Identity", on_merge="explode")
