"""Identities: one live owner per e-mail/phone/WeChat/external id, exact matching for ingest, and the collision
check that tells a rep who owns a customer and nothing else."""

import threading

import pytest
from django.db import connection

from guanxi.customers import identities, services
from guanxi.customers.errors import IdentityConflict
from guanxi.customers.models import Customer, Identity


def test_create_and_update_keep_identities_in_sync(users, make_customer):
    rep = users["rep"]
    customer = make_customer(
        rep, display_name="王芳", emails=["Fang@Example.com"], phones=["138 1234 5678"], wechat_id="WangFang"
    )
    assert set(customer.identities.values_list("kind", "value")) == {
        ("email", "fang@example.com"),
        ("phone", "+8613812345678"),
        ("wechat", "wangfang"),
    }
    services.update_customer(
        actor=rep,
        customer_id=customer.pk,
        version=customer.version,
        data={"phones": ["13900001111"], "external_ids": ["Shopify: 42", "erp:A-7"]},
    )
    assert set(customer.identities.values_list("kind", "value")) == {
        ("email", "fang@example.com"),
        ("phone", "+8613900001111"),
        ("wechat", "wangfang"),
        ("external", "shopify:42"),
        ("external", "erp:A-7"),
    }
    # The old phone is free again.
    make_customer(users["rep2"], display_name="Other", phones=["13812345678"])


def test_an_identity_never_belongs_to_two_live_customers(users, make_customer):
    make_customer(users["rep2"], display_name="张伟的客户", phones=["13812345678"], emails=["a@example.com"])
    with pytest.raises(IdentityConflict) as caught:
        services.create_customer(actor=users["rep"], data={"display_name": "Mine", "phones": ["+86 138-1234-5678"]})
    assert caught.value.status == 409 and caught.value.code == "identity_conflict"
    assert caught.value.details == {"phones": ["This phone already belongs to another customer, owned by rep2."]}
    assert not Customer.objects.filter(display_name="Mine").exists()  # nothing half-written
    mine = make_customer(users["rep"], display_name="Mine")
    with pytest.raises(IdentityConflict):
        services.update_customer(actor=users["rep"], customer_id=mine.pk, version=1, data={"emails": ["A@example.com"]})


def test_deleting_a_customer_releases_its_identities(users, make_customer):
    old = make_customer(users["rep"], display_name="Old", phones=["13812345678"])
    services.delete_customer(actor=users["rep"], customer_id=old.pk, version=old.version)
    new = make_customer(users["rep2"], display_name="New", phones=["13812345678"])
    assert identities.match_customers([("phone", "13812345678")]) == {("phone", "13812345678"): new.pk}
    assert Identity.objects.filter(customer=old, released_at__isnull=False).count() == 1


def test_the_database_itself_refuses_a_second_live_owner(users, make_customer):
    from django.db import IntegrityError, transaction

    a = make_customer(users["rep"], display_name="A", emails=["x@example.com"])
    b = make_customer(users["rep"], display_name="B")
    with pytest.raises(IntegrityError), transaction.atomic():
        Identity.objects.create(customer=b, kind="email", value="x@example.com")
    assert a.identities.count() == 1


def test_match_customers_is_a_bulk_exact_lookup(users, make_customer):
    a = make_customer(users["rep"], display_name="A", emails=["a@example.com"], phones=["13812345678"])
    b = make_customer(users["rep2"], display_name="B", wechat_id="bee")
    services.update_customer(actor=users["rep2"], customer_id=b.pk, version=1, data={"external_ids": ["crm:9"]})
    found = identities.match_customers(
        [
            ("email", "A@EXAMPLE.com"),
            ("phone", "+86 13812345678"),
            ("wechat", "BEE"),
            ("external", "CRM:9"),
            ("email", "nobody@example.com"),
            ("phone", "not a phone"),
        ]
    )
    assert found == {
        ("email", "A@EXAMPLE.com"): a.pk,
        ("phone", "+86 13812345678"): a.pk,
        ("wechat", "BEE"): b.pk,
        ("external", "CRM:9"): b.pk,
    }


def test_lookup_tells_a_rep_the_owner_only(users, make_customer, api):
    """A rep asking whether a phone number exists learns the owner's name only, never the customer's data."""
    users["rep2"].display_name = "张伟"
    users["rep2"].save()
    theirs = make_customer(
        users["rep2"],
        display_name="秘密客户",
        phones=["13812345678"],
        emails=["secret@example.com"],
        company="机密公司",
    )
    response = api(users["rep"]).get("/api/v1/customers/lookup", {"phone": "138 1234 5678"})
    assert response.status_code == 200
    assert response.json() == {
        "exists": True,
        "matches": [{"field": "phone", "owner": "张伟", "customer_id": None, "display_name": ""}],
    }
    body = response.content.decode("unicode_escape")
    for secret in ("秘密客户", "secret@example.com", "机密公司", "13812345678"):
        assert secret not in body
    # By name too, and nothing for a number nobody has.
    by_name = api(users["rep"]).get("/api/v1/customers/lookup", {"name": "秘密客户"}).json()
    assert by_name["matches"] == [{"field": "name", "owner": "张伟", "customer_id": None, "display_name": ""}]
    assert api(users["rep"]).get("/api/v1/customers/lookup", {"phone": "13900000000"}).json() == {
        "exists": False,
        "matches": [],
    }
    # Its owner (who can see it) gets a link.
    own = api(users["rep2"]).get("/api/v1/customers/lookup", {"email": "SECRET@example.com"}).json()
    assert own["matches"][0]["customer_id"] == theirs.pk and own["matches"][0]["display_name"] == "秘密客户"


def test_lookup_needs_a_creating_role_and_a_value(users, api):
    assert api(users["analyst"]).get("/api/v1/customers/lookup", {"phone": "13812345678"}).status_code == 403
    response = api(users["rep"]).get("/api/v1/customers/lookup")
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed"


def test_identity_conflict_over_the_api_names_the_owner_only(users, make_customer, api):
    make_customer(users["rep2"], display_name="Hidden Person", emails=["h@example.com"])
    response = api(users["rep"]).post(
        "/api/v1/customers", {"display_name": "Mine", "emails": ["h@example.com"]}, content_type="application/json"
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "identity_conflict"
    assert error["details"] == {"emails": ["This e-mail already belongs to another customer, owned by rep2."]}
    assert "Hidden Person" not in response.content.decode()


def test_ingest_attaches_or_creates(users, make_customer, api):
    client = api(users["rep"])
    first = client.post(
        "/api/v1/customers/ingest",
        {"display_name": "李雷", "phones": ["13812345678"], "external_ids": ["shop:1"]},
        content_type="application/json",
    )
    assert first.status_code == 201 and first.json()["created"] is True
    customer_id = first.json()["customer"]["id"]
    again = client.post(
        "/api/v1/customers/ingest",
        {"display_name": "李雷", "emails": ["lilei@example.com"], "external_ids": ["shop:1"], "company": "韩梅梅公司"},
        content_type="application/json",
    )
    assert again.status_code == 200, again.content
    body = again.json()
    assert body["created"] is False and body["customer"]["id"] == customer_id
    assert body["customer"]["emails"] == ["lilei@example.com"] and body["customer"]["phones"] == ["+8613812345678"]
    assert body["customer"]["company"] == "韩梅梅公司"
    assert Customer.objects.count() == 1
    ids = client.get(f"/api/v1/customers/{customer_id}/identities").json()
    assert {(i["kind"], i["value"]) for i in ids} == {
        ("phone", "+8613812345678"),
        ("email", "lilei@example.com"),
        ("external", "shop:1"),
    }
    # Someone who may not edit that customer gets a 409 with the owner's name, not the customer.
    other = api(users["rep_b"]).post(
        "/api/v1/customers/ingest", {"display_name": "X", "phones": ["13812345678"]}, content_type="application/json"
    )
    assert other.status_code == 409 and other.json()["error"]["details"] == {"owners": ["rep"]}
    assert "李雷" not in other.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the in-memory SQLite test database's shared-cache table locks fail at once instead of queueing "
    "(the file database queues writers with IMMEDIATE); run on PostgreSQL",
)
def test_concurrent_creates_with_one_phone_make_one_customer(users):
    """Two reps racing to create the same phone: one wins, the other gets identity_conflict (no 500)."""
    results: list[object] = []
    barrier = threading.Barrier(2)

    def create(user):
        try:
            barrier.wait(timeout=10)
            results.append(
                services.create_customer(actor=user, data={"display_name": user.username, "phones": ["13812345678"]})
            )
        except IdentityConflict as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(users[name],)) for name in ("rep", "rep2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(r).__name__ for r in results) == ["Customer", "IdentityConflict"]
    assert Identity.objects.filter(value="+8613812345678", released_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_backfill_keeps_the_first_and_queues_colliding_pairs():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("customers", "0004_identities_duplicates_merges")])
    old_apps = executor.loader.project_state([("customers", "0004_identities_duplicates_merges")]).apps
    Old = old_apps.get_model("customers", "Customer")
    first = Old.objects.create(display_name="First", phones=["+8613812345678"], emails=["A@example.com"])
    second = Old.objects.create(display_name="Second", phones=["+8613812345678"], wechat_id="wx1")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(Identity.objects.values_list("customer_id", "kind", "value")) == {
        (first.pk, "phone", "+8613812345678"),
        (first.pk, "email", "a@example.com"),
        (second.pk, "wechat", "wx1"),
    }
    from guanxi.customers.models import DuplicateCandidate

    candidate = DuplicateCandidate.objects.get()
    assert (candidate.customer_a_id, candidate.customer_b_id, candidate.source) == (first.pk, second.pk, "identity")
    assert candidate.matched_fields == ["phone"]
