"""``create_customers``: the batch form of ``create_customer`` gives, row for row, what creating the rows one after
the other gives (customers, derived fields, tags, identities, events, audit entries, ownership history and
auto-assignment, per-row errors), in a handful of statements."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from guanxi.core.errors import GuanxiError
from guanxi.core.models import AuditEntry, Event
from guanxi.customers import identities, services
from guanxi.customers.errors import CustomerReadOnly, IdentityConflict
from guanxi.customers.models import Customer, CustomFieldDefinition, Identity
from guanxi.ownership.models import OwnershipChange, PoolRule

SKIPPED_FIELDS = {"id", "created_at", "updated_at"}


class _Rollback(Exception):
    pass


def _snapshot(results) -> dict:
    """Everything the creation wrote, with customers named by their row's position instead of their id."""
    customers = [r for r in results if isinstance(r, Customer)]
    index = {c.pk: i for i, c in enumerate(customers)}
    rows = []
    for customer in Customer.objects.filter(pk__in=index).prefetch_related("tags"):
        fields = {
            f.attname: getattr(customer, f.attname)
            for f in Customer._meta.concrete_fields
            if f.attname not in SKIPPED_FIELDS
        }
        rows.append(
            (
                index[customer.pk],
                fields,
                sorted(t.name for t in customer.tags.all()),
                sorted(customer.identities.filter(released_at__isnull=True).values_list("kind", "value")),
            )
        )
    events = []
    for event in Event.objects.filter(subject_type="customers.customer", subject_id__in=index):
        audit = AuditEntry.objects.filter(event=event).first()
        events.append(
            (
                index[event.subject_id],
                event.type,
                event.actor_id,
                event.payload,
                audit and (audit.action, audit.actor_label, audit.subject_label, audit.changes),
            )
        )
    history = [
        (index[h.customer_id], h.reason, h.from_user_id, h.to_user_id, h.team_id, h.note, h.actor_id)
        for h in OwnershipChange.objects.filter(customer_id__in=index)
    ]
    errors = [(type(r).__name__, r.code, r.message, r.details) if isinstance(r, GuanxiError) else None for r in results]
    return {
        "customers": sorted(rows, key=lambda r: r[0]),
        "events": sorted(events, key=lambda e: (e[0], e[1])),
        "history": sorted(history, key=lambda h: (h[0], h[1])),
        "errors": errors,
    }


def _one_by_one(actor, rows) -> list:
    results = []
    for data in rows:
        try:
            results.append(services.create_customer(actor=actor, data=data))
        except GuanxiError as exc:
            results.append(exc)
    return results


def _both_ways(actor, rows) -> tuple[dict, dict]:
    """(one by one, batch) snapshots of the same rows; the one-by-one run is rolled back first."""
    captured = {}
    with pytest.raises(_Rollback), transaction.atomic():
        captured["single"] = _snapshot(_one_by_one(actor, rows))
        raise _Rollback
    return captured["single"], _snapshot(services.create_customers(actor=actor, rows=rows))


@pytest.fixture
def level(db):
    return CustomFieldDefinition.objects.create(key="level", label="Level", field_type="choice", choices=["A", "B"])


def test_the_batch_writes_what_one_by_one_writes(users, teams, level):
    manager = users["manager"]
    PoolRule.objects.create(team=teams[0], assignment=PoolRule.Assignment.ROUND_ROBIN)
    rows = [
        {
            "display_name": " 王芳 ",
            "emails": ["Fang@Example.com", "fang@example.com"],
            "phones": ["138 1234 5678"],
            "wechat_id": "WangFang",
            "tags": ["vip", "北京"],
            "external_ids": ["Shop: 42", "erp:A-7"],
            "custom_fields": {"level": "A"},
        },
        {"family_name": "李", "given_name": "雷", "company": "雷雷公司"},
        {"company": "Acme  Ltd", "kind": "company", "region": "华东", "industry": "制造", "address": "  1 Road  "},
        {"display_name": "Pool one", "owner_id": None, "team_id": teams[0].pk, "phones": ["+1 415 555 2671"]},
        {"display_name": "Pool two", "owner_id": None},
        {"display_name": "For rep2", "owner_id": users["rep2"].pk, "tags": ["vip", "new"]},
        {"given_name": "Anna", "family_name": "Smith", "emails": ["anna@example.com"], "profiling_opt_out": True},
        {"display_name": "Imported", "source": "import", "custom_fields": {"level": "B"}},
    ]
    single, batch = _both_ways(manager, rows)
    assert batch == single
    assert batch["errors"] == [None] * len(rows)
    # The snapshot is not vacuous: derived fields, identities, events and the auto-assignment are in it.
    first = batch["customers"][0]
    assert first[1]["search_text"] == "王芳 | wangfang | fang@example.com | +8613812345678 | 13812345678"
    assert ("external", "shop:42") in first[3] and first[2] == ["vip", "北京"]
    assert batch["customers"][1][1]["display_name"] == "李雷"
    created = [e for e in batch["events"] if e[1] == "customer.created"]
    assert len(created) == len(rows) and all(e[4][0] == "create" for e in created)
    assert created[0][4][3]["external_ids"] == [None, ["erp:A-7", "shop:42"]]
    assert [e[1] for e in batch["events"] if e[0] == 3] == ["customer.created", "customer.owner_changed"]
    pool_one = batch["customers"][3][1]
    assert pool_one["owner_id"] == users["rep"].pk  # round robin, as one by one
    assert batch["customers"][4][1]["owner_id"] == users["rep2"].pk
    assert [h[1] for h in batch["history"] if h[0] == 3] == ["assigned", "created"]


def test_each_row_gets_the_error_one_by_one_would_raise(users, make_customer):
    rep = users["rep"]
    make_customer(users["rep_b"], display_name="Theirs", emails=["taken@example.com"])
    rows = [
        {"display_name": "First", "emails": ["x@example.com"]},
        {"given_name": "", "emails": ["nobody@example.com"]},  # no name
        {"display_name": "Second", "emails": ["X@Example.com"], "phones": ["13900001111"]},  # x@ is the first's
        {"display_name": "Given away", "owner_id": users["rep2"].pk},  # reps cannot name another owner
        {"display_name": "Taken", "emails": ["taken@example.com"]},  # held by rep_b's customer
        {"display_name": "Bad", "emails": ["not-an-email"], "tags": ["x" * 60]},
        {"display_name": "Third", "phones": ["13900001111"]},  # the second failed: its phone is free
        {"display_name": "Ext", "external_ids": ["shop"]},
    ]
    single, batch = _both_ways(rep, rows)
    assert batch == single
    kinds = [e and e[0] for e in batch["errors"]]
    assert kinds == [
        None,
        "CustomerInvalid",
        "IdentityConflict",
        "OwnerAssignmentDenied",
        "IdentityConflict",
        "CustomerInvalid",
        None,
        "CustomerInvalid",
    ]
    assert batch["errors"][2][3] == {"emails": ["This e-mail already belongs to another customer, owned by rep."]}
    assert batch["errors"][4][3] == {"emails": ["This e-mail already belongs to another customer, owned by rep_b."]}
    assert not Customer.objects.filter(display_name__in=["Second", "Given away", "Taken", "Bad", "Ext"]).exists()
    assert Identity.objects.filter(value="+8613900001111").get().customer.display_name == "Third"


def test_roles_that_cannot_create_get_nothing(users):
    with pytest.raises(CustomerReadOnly):
        services.create_customers(actor=users["analyst"], rows=[{"display_name": "No"}])
    assert not Customer.objects.exists()
    assert services.create_customers(actor=users["rep"], rows=[]) == []


def test_a_few_statements_per_batch_not_per_row(users):
    def queries_for(count: int, offset: int) -> int:
        rows = [
            {"display_name": f"C{i}", "emails": [f"c{i}@example.com"], "phones": [f"139{i:08d}"], "tags": ["t"]}
            for i in range(offset, offset + count)
        ]
        with CaptureQueriesContext(connection) as captured:
            results = services.create_customers(actor=users["manager"], rows=rows)
        assert all(isinstance(r, Customer) and r.pk for r in results)
        return len(captured.captured_queries)

    small, large = queries_for(10, 0), queries_for(300, 10)
    assert small <= 24  # 20, and 4 for the customers' first lifecycle stages (definitions, decide, two inserts)
    # Only the bulk inserts grow, by the rows a statement can carry (SQLite: 999 parameters each).
    assert large <= small + 30, (small, large)
    assert Event.objects.filter(type="customer.created").count() == 310
    assert AuditEntry.objects.filter(action="create", subject_type="customers.customer").count() == 310


def test_a_concurrent_claim_between_check_and_insert_fails_only_its_row(users, make_customer, monkeypatch):
    """The database's unique constraint is the arbiter: the batch is rolled back and redone row by row."""
    real_check = identities.check_new_batch

    def check_then_lose_the_race(items):
        out = real_check(items)
        with transaction.atomic():  # another writer takes b@ right after the check
            make_customer(users["rep_b"], display_name="Quick", emails=["b@example.com"])
        return out

    monkeypatch.setattr(identities, "check_new_batch", check_then_lose_the_race)
    rows = [
        {"display_name": "A", "emails": ["a@example.com"]},
        {"display_name": "B", "emails": ["b@example.com"]},
        {"display_name": "C", "emails": ["c@example.com"]},
    ]
    results = services.create_customers(actor=users["rep"], rows=rows)
    assert isinstance(results[0], Customer) and isinstance(results[2], Customer)
    assert isinstance(results[1], IdentityConflict)
    assert results[1].details == {"emails": ["This e-mail already belongs to another customer, owned by rep_b."]}
    assert sorted(Customer.objects.values_list("display_name", flat=True)) == ["A", "C", "Quick"]
    assert Event.objects.filter(type="customer.created").count() == 3
    assert OwnershipChange.objects.filter(reason="created").count() == 3
