"""The customers API, case by case in the order an attacker would try: anonymous, wrong role, other owner,
invalid input, valid."""

import json

import pytest
from django.test import Client

from guanxi.accounts import services as accounts
from guanxi.core.models import AuditEntry, Event
from guanxi.customers.models import Customer, CustomFieldDefinition

URL = "/api/v1/customers"
PERSONAL = {
    "display_name",
    "given_name",
    "family_name",
    "emails",
    "phones",
    "wechat_id",
    "company",
    "address",
    "custom_fields",
}


def send(client, method, url, body=None, **kwargs):
    return getattr(client, method)(
        url, data=json.dumps(body) if body is not None else None, content_type="application/json", **kwargs
    )


def stored(customer):
    """Everything about a stored customer that a write could change."""
    fresh = Customer.objects.get(pk=customer.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Customer._meta.concrete_fields}, sorted(
        fresh.tags.values_list("name", flat=True)
    )


# --- authentication ---------------------------------------------------------------------------------------------


def test_no_token_is_401_with_the_error_format(db):
    response = Client().get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"
    assert send(Client(), "post", URL, {"display_name": "x"}).status_code == 401


def test_wrong_and_revoked_tokens_are_401(users):
    assert Client(headers={"Authorization": "Bearer gx_not-a-real-token"}).get(URL).status_code == 401
    record, token = accounts.create_api_token(user=users["rep"], name="ci")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get(URL).status_code == 200
    accounts.revoke_api_token(user=users["rep"], token_id=record.pk)
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"


def test_token_records_last_use_and_is_stored_hashed(users):
    record, token = accounts.create_api_token(user=users["rep"], name="ci")
    assert token not in record.digest and record.last_used_at is None
    Client(headers={"Authorization": f"Bearer {token}"}).get(URL)
    record.refresh_from_db()
    assert record.last_used_at is not None


def test_session_auth_needs_csrf_on_unsafe_methods(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["rep"])
    assert client.get(URL).status_code == 200
    response = send(client, "post", URL, {"display_name": "No CSRF"})
    assert response.status_code == 403
    assert not Customer.objects.filter(display_name="No CSRF").exists()

    client.get("/customers/")  # a page sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = send(client, "post", URL, {"display_name": "With CSRF"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.content


# --- scope: other owners, teams, roles -----------------------------------------------------------------------


def test_rep_lists_only_own_and_shared_customers(users, api, make_customer):
    own = make_customer(users["rep"], display_name="Own")
    shared = make_customer(users["rep2"], display_name="Shared with me")
    make_customer(users["rep2"], display_name="Not mine")
    make_customer(users["rep_b"], display_name="Other team")
    api(users["rep2"]).post(
        f"{URL}/{shared.pk}/shares", data={"user_id": users["rep"].pk}, content_type="application/json"
    )

    body = api(users["rep"]).get(URL).json()
    assert body["total"] == 2
    assert {c["id"] for c in body["items"]} == {own.pk, shared.pk}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_another_reps_customer_is_404_and_unchanged(users, api, make_customer, method):
    theirs = make_customer(users["rep2"], display_name="Theirs", company="Secret Co", tags=["vip"])
    client = api(users["rep"])
    before = stored(theirs)
    events_before = Event.objects.count()
    body = {"version": 1, "company": "Stolen"} if method in ("put", "patch") else None
    response = send(client, method, f"{URL}/{theirs.pk}", body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "customer_not_found"
    assert "Secret Co" not in response.content.decode()
    assert stored(theirs) == before
    assert Event.objects.count() == events_before


def test_unknown_id_and_guessed_id_look_the_same(users, api, make_customer):
    theirs = make_customer(users["rep2"], display_name="Theirs")
    guessed = api(users["rep"]).get(f"{URL}/{theirs.pk}")
    missing = api(users["rep"]).get(f"{URL}/99999999")
    assert guessed.status_code == missing.status_code == 404
    assert guessed.json()["error"]["code"] == missing.json()["error"]["code"]


def test_manager_sees_whole_team_and_no_other_team(users, api, make_customer):
    a1 = make_customer(users["rep"], display_name="A1")
    a2 = make_customer(users["rep2"], display_name="A2")
    b1 = make_customer(users["rep_b"], display_name="B1")
    client = api(users["manager"])
    assert {c["id"] for c in client.get(URL).json()["items"]} == {a1.pk, a2.pk}
    assert client.get(f"{URL}/{b1.pk}").status_code == 404
    assert send(client, "put", f"{URL}/{a1.pk}", {"version": 1, "region": "浙江"}).status_code == 200


def test_analyst_gets_no_personal_fields_and_cannot_write(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="王小明", emails=["xm@example.com"], phones=["13812345678"])
    client = api(users["analyst"])
    listed = client.get(URL).json()["items"]
    assert listed and all(not (PERSONAL & set(item)) for item in listed)
    one = client.get(f"{URL}/{customer.pk}").json()
    assert not PERSONAL & set(one)
    searched = client.get(URL, {"q": "1381234"})  # searching personal data would reveal it
    assert searched.status_code == 403 and "13812345678" not in searched.content.decode()
    assert send(client, "post", URL, {"display_name": "x"}).status_code == 403
    assert send(client, "put", f"{URL}/{customer.pk}", {"version": 1, "region": "x"}).status_code == 403
    assert send(client, "delete", f"{URL}/{customer.pk}").status_code == 403
    assert Customer.objects.get(pk=customer.pk).version == 1


def test_rep_cannot_hand_a_customer_to_someone_else(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="Mine")
    before = stored(customer)
    response = send(api(users["rep"]), "put", f"{URL}/{customer.pk}", {"version": 1, "owner_id": users["rep2"].pk})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "owner_assignment_denied"
    assert stored(customer) == before
    created = send(api(users["rep"]), "post", URL, {"display_name": "x", "owner_id": users["rep2"].pk})
    assert created.status_code == 403
    other_team = send(api(users["rep"]), "post", URL, {"display_name": "x", "team_id": users["rep_b"].team_id})
    assert other_team.status_code == 403
    assert not Customer.objects.filter(display_name="x").exists()


def test_manager_assigns_within_led_teams_only(users, api, make_customer):
    client = api(users["manager"])
    ok = send(client, "post", URL, {"display_name": "For rep2", "owner_id": users["rep2"].pk})
    assert ok.status_code == 201 and ok.json()["owner_id"] == users["rep2"].pk
    assert ok.json()["team_id"] == users["rep2"].team_id
    denied = send(client, "post", URL, {"display_name": "For rep_b", "owner_id": users["rep_b"].pk})
    assert denied.status_code == 403
    # Without an owner the manager owns it; with null it goes to a led team's pool. Either way the manager sees it.
    own = send(client, "post", URL, {"display_name": "Manager's own"}).json()
    assert own["owner_id"] == users["manager"].pk and own["team_id"] == users["manager"].team_id
    pool = send(client, "post", URL, {"display_name": "Pool", "owner_id": None}).json()
    assert pool["owner_id"] is None and pool["team_id"] == users["rep"].team_id
    assert {own["id"], pool["id"]} <= {c["id"] for c in client.get(URL).json()["items"]}
    moved = send(client, "put", f"{URL}/{pool['id']}", {"version": 1, "owner_id": users["rep2"].pk}).json()
    assert moved["owner_id"] == users["rep2"].pk and moved["version"] == 2
    assert api(users["rep2"]).get(f"{URL}/{pool['id']}").status_code == 200
    other_team = send(client, "put", f"{URL}/{pool['id']}", {"version": 2, "team_id": users["rep_b"].team_id})
    assert other_team.status_code == 403


# --- optimistic locking --------------------------------------------------------------------------------------


def test_stale_version_is_409_and_the_record_is_unchanged(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="Versioned", company="First")
    client = api(users["rep"])
    first = send(client, "put", f"{URL}/{customer.pk}", {"version": 1, "company": "Second"})
    assert first.status_code == 200 and first.json()["version"] == 2
    before = stored(customer)
    stale = send(client, "put", f"{URL}/{customer.pk}", {"version": 1, "company": "Overwrite"})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_version"
    assert stale.json()["error"]["details"] == {"current": 2, "expected": 1}
    assert stored(customer) == before
    assert send(client, "delete", f"{URL}/{customer.pk}?version=1").status_code == 409
    assert Customer.objects.get(pk=customer.pk).deleted_at is None


def test_update_without_version_is_422(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="X")
    response = send(api(users["rep"]), "put", f"{URL}/{customer.pk}", {"company": "Y"})
    assert response.status_code == 422
    assert "version" in response.json()["error"]["details"]


# --- validation --------------------------------------------------------------------------------------------------


def test_invalid_payload_is_422_with_a_message_per_field(users, api):
    response = send(
        api(users["rep"]),
        "post",
        URL,
        {
            "kind": "robot",
            "emails": ["not-an-email"],
            "phones": ["12"],
            "display_name": "x" * 300,
            "unknown": 1,
        },
    )
    assert response.status_code == 422
    fields = response.json()["error"]["details"]
    assert {"kind", "display_name", "unknown"} <= set(fields)
    assert all(isinstance(messages, list) and messages for messages in fields.values())


def test_domain_validation_reports_each_bad_value(users, api):
    response = send(
        api(users["rep"]),
        "post",
        URL,
        {"display_name": "X", "emails": ["ok@example.com", "bad@"], "phones": ["+86 138 1234 5678", "12"]},
    )
    assert response.status_code == 422
    fields = response.json()["error"]["details"]
    assert set(fields) == {"emails.1", "phones.1"}
    assert not Customer.objects.filter(display_name="X").exists()


def test_custom_fields_are_checked_against_definitions(users, api):
    CustomFieldDefinition.objects.create(key="tier_code", label="Tier", field_type="choice", choices=["A", "B"])
    CustomFieldDefinition.objects.create(key="birthday", label="Birthday", field_type="date")
    client = api(users["rep"])
    unknown = send(client, "post", URL, {"display_name": "X", "custom_fields": {"shoe_size": 42}})
    assert unknown.status_code == 422
    assert "custom_fields.shoe_size" in unknown.json()["error"]["details"]
    wrong = send(client, "post", URL, {"display_name": "X", "custom_fields": {"tier_code": "Z", "birthday": "soon"}})
    assert set(wrong.json()["error"]["details"]) == {"custom_fields.tier_code", "custom_fields.birthday"}
    good = send(
        client,
        "post",
        URL,
        {"display_name": "X", "custom_fields": {"tier_code": "A", "birthday": "1990-05-04"}},
    )
    assert good.status_code == 201
    assert good.json()["custom_fields"] == {"tier_code": "A", "birthday": "1990-05-04"}


def test_text_no_database_can_store_is_422_not_500(users, api):
    client = api(users["rep"])
    nul = send(client, "post", URL, {"display_name": "a\x00b"})
    assert nul.status_code == 422 and "display_name" in nul.json()["error"]["details"]
    surrogate = client.post(URL, data='{"display_name": "\\udbca"}', content_type="application/json")
    assert surrogate.status_code == 422
    assert client.get(URL, {"q": "a\x00"}).status_code == 422
    assert not Customer.objects.exists()


def test_any_offset_python_accepts_is_fine_for_the_database(users, api, make_customer):
    make_customer(users["rep"], display_name="Early")
    client = api(users["rep"])
    # PostgreSQL rejects offsets beyond 15:59; the API turns every instant into UTC first.
    assert client.get(URL, {"created_after": "1721-09-03T03:44:01-16:20"}).json()["total"] == 1
    assert client.get(URL, {"created_before": "2999-01-01T00:00:00+23:59"}).json()["total"] == 1
    assert client.get(URL, {"created_after": "0001-01-01T00:00:00+01:00"}).status_code == 422


def test_malformed_json_is_a_4xx(users, api):
    response = api(users["rep"]).post(URL, data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


# --- valid use ----------------------------------------------------------------------------------------------------


def test_create_normalises_and_returns_every_field(users, api):
    response = send(
        api(users["rep"]),
        "post",
        URL,
        {
            "family_name": " 王 ",
            "given_name": "小明",
            "emails": ["XM@Example.COM"],
            "phones": ["138 1234 5678"],
            "company": "星辰科技",
            "tags": ["VIP", "VIP", "经销商"],
            "source": "wechat",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["display_name"] == "王小明"
    assert body["emails"] == ["xm@example.com"]
    assert body["phones"] == ["+8613812345678"]
    assert body["tags"] == ["VIP", "经销商"]
    assert body["owner_id"] == users["rep"].pk and body["team_id"] == users["rep"].team_id
    assert body["version"] == 1
    assert {"created_at", "updated_at", "kind", "custom_fields", "address", "region", "industry"} <= set(body)


def test_delete_is_soft_and_audited(users, api, make_customer):
    customer = make_customer(users["rep"], display_name="Bye")
    client = api(users["rep"])
    assert send(client, "delete", f"{URL}/{customer.pk}").status_code == 204
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    assert client.get(f"{URL}/{customer.pk}").status_code == 404
    assert (
        AuditEntry.objects.filter(subject_type="customers.customer", subject_id=customer.pk, action="delete").count()
        == 1
    )


def test_search_filters_and_pagination(users, api, make_customer):
    rep = users["rep"]
    make_customer(rep, display_name="王小明", phones=["13812345678"], tags=["vip"])
    make_customer(rep, display_name="Alice Smith", emails=["alice@acme.example"], company="ACME")
    for i in range(5):
        make_customer(rep, display_name=f"Filler {i}")
    client = api(rep)
    assert [c["display_name"] for c in client.get(URL, {"q": "小明"}).json()["items"]] == ["王小明"]
    assert [c["display_name"] for c in client.get(URL, {"q": "1381234"}).json()["items"]] == ["王小明"]
    assert [c["display_name"] for c in client.get(URL, {"q": "ALICE@ACME"}).json()["items"]] == ["Alice Smith"]
    assert [c["display_name"] for c in client.get(URL, {"q": "acme"}).json()["items"]] == ["Alice Smith"]
    assert [c["display_name"] for c in client.get(URL, {"tag": "vip"}).json()["items"]] == ["王小明"]
    page = client.get(URL, {"limit": 3, "offset": 3, "sort": "name"}).json()
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 3
    assert len(page["items"]) == 3
    all_names = [c["display_name"] for c in client.get(URL, {"sort": "name", "limit": 200}).json()["items"]]
    assert [c["display_name"] for c in page["items"]] == all_names[3:6]
    assert client.get(URL, {"owner_id": users["rep2"].pk}).json()["total"] == 0
    assert client.get(URL, {"created_after": "2999-01-01T00:00:00Z"}).json()["total"] == 0
    assert client.get(URL, {"limit": 0}).status_code == 422


def test_list_query_count_does_not_grow_with_page_size(users, api, make_customer, django_assert_max_num_queries):
    for i in range(30):
        make_customer(users["rep"], display_name=f"C{i}", tags=["a", "b"])
    client = api(users["rep"])
    client.get(URL)  # warm up: token last-used write and content types
    with django_assert_max_num_queries(6) as small:
        assert len(client.get(URL, {"limit": 2}).json()["items"]) == 2
    with django_assert_max_num_queries(6) as large:
        assert len(client.get(URL, {"limit": 30}).json()["items"]) == 30
    assert len(large.captured_queries) == len(small.captured_queries)


def test_health_needs_no_auth_and_reports_the_database(db):
    body = Client().get("/api/v1/health").json()
    assert body["database"] is True and body["status"] == "ok" and body["version"]
