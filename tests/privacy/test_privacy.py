"""Privacy (GDPR / PIPL): consent, export, erasure and the profiling opt-out, attacker's order first."""

import contextlib
import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from guanxi.commerce import services as orders
from guanxi.commerce.models import Order
from guanxi.core.models import AuditEntry, Event
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.privacy import services
from guanxi.privacy.models import Consent, ErasureLog

PERSONAL = {
    "display_name": "王小明",
    "family_name": "王",
    "given_name": "小明",
    "emails": ["wang.xiaoming@example.com"],
    "phones": ["+8613812345678"],
    "wechat_id": "wxid_xiaoming88",
    "company": "上海明星科技有限公司",
    "address": "上海市南京东路100号",
    "tags": ["VIP"],
}
NEEDLES = [
    "王小明",
    "小明",
    "wang.xiaoming@example.com",
    "+8613812345678",
    "13812345678",
    "wxid_xiaoming88",
    "上海明星科技有限公司",
    "上海市南京东路100号",
]


@pytest.fixture
def customer(users, make_customer):
    return make_customer(users["rep"], **PERSONAL)


def _consent_body(**overrides):
    return {"channel": "email_marketing", "status": "granted", "source": "form", "evidence": "", **overrides}


# --- consent -----------------------------------------------------------------------------------------------


def test_consent_api_refuses_anonymous_wrong_role_and_other_owner(users, api, customer):
    url = f"/api/v1/privacy/customers/{customer.pk}/consents"
    assert api(None).post(url, _consent_body(), content_type="application/json").status_code == 401
    for who in ("rep_b", "support"):
        response = api(users[who]).post(url, _consent_body(), content_type="application/json")
        assert response.status_code == 404, who
        assert response.json()["error"]["code"] == "customer_not_found"
    analyst = api(users["analyst"]).post(url, _consent_body(), content_type="application/json")
    assert analyst.status_code == 403 and analyst.json()["error"]["code"] == "privacy_action_denied"
    assert api(users["rep_b"]).get(url).status_code == 404
    assert api(users["analyst"]).get(url).status_code == 404  # consent is personal data
    assert not Consent.objects.exists()


def test_consent_api_rejects_invalid_input(users, api, customer):
    url = f"/api/v1/privacy/customers/{customer.pk}/consents"
    for body in (_consent_body(channel="fax"), _consent_body(status="maybe"), _consent_body(extra=1)):
        response = api(users["rep"]).post(url, body, content_type="application/json")
        assert response.status_code == 422
        assert "error" in response.json()
    with pytest.raises(services.ConsentInvalid):
        services.record_consent(
            actor=users["rep"], customer_id=customer.pk, channel="sms", status="granted", source="telepathy"
        )


def test_consent_history_current_state_and_may_contact(users, api, customer):
    url = f"/api/v1/privacy/customers/{customer.pk}/consents"
    assert not services.may_contact(customer, "email_marketing")  # opt-in: never asked means no
    client = api(users["rep"])
    assert client.post(url, _consent_body(evidence="signed form"), content_type="application/json").status_code == 201
    assert services.may_contact(customer, "email_marketing")
    assert not services.may_contact(customer, "sms")
    response = client.post(
        url, _consent_body(status="withdrawn", source="unsubscribe"), content_type="application/json"
    )
    body = response.json()
    assert response.status_code == 201
    email = next(c for c in body["channels"] if c["channel"] == "email_marketing")
    assert email["may_contact"] is False and email["current"]["source"] == "unsubscribe"
    assert [h["status"] for h in body["history"]] == ["withdrawn", "granted"]
    assert not services.may_contact(customer, "email_marketing")
    assert Consent.objects.filter(customer=customer).count() == 2  # history is kept
    audit = AuditEntry.objects.filter(subject_id=customer.pk, event__type="consent.recorded").order_by("at", "id")
    assert [a.changes["consent.email_marketing"] for a in audit] == [[None, "granted"], ["granted", "withdrawn"]]
    with pytest.raises(ValueError):
        services.may_contact(customer, "pigeon")


def test_consent_panel_on_customer_page_records_through_htmx(users, browser_for, customer):
    browser = browser_for(users["rep"])
    page = browser.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="privacy-panel"' in page and 'data-testid="export-customer"' in page
    assert 'data-testid="erase-customer"' not in page  # a rep may not erase
    response = browser.post(
        f"/privacy/customers/{customer.pk}/consents/",
        {"channel": "wechat", "status": "granted", "source": "verbal", "evidence": "asked at the store"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert services.may_contact(customer, "wechat")
    bad = browser.post(
        f"/privacy/customers/{customer.pk}/consents/",
        {"channel": "wechat", "status": "granted", "source": "nope"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and 'role="alert"' in bad.content.decode()
    assert browser_for(users["rep_b"]).post(f"/privacy/customers/{customer.pk}/consents/", {}).status_code == 404
    analyst_page = browser_for(users["analyst"]).get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="privacy-panel"' not in analyst_page


def test_profiling_opt_out_toggle_goes_through_the_customer_service(users, browser_for, customer):
    browser = browser_for(users["rep"])
    response = browser.post(
        f"/privacy/customers/{customer.pk}/profiling/", {"version": customer.version, "opt_out": "1"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.profiling_opt_out is True
    stale = browser.post(
        f"/privacy/customers/{customer.pk}/profiling/",
        {"version": customer.version - 1, "opt_out": "0"},
        headers={"HX-Request": "true"},
    )
    assert stale.status_code == 409
    customer.refresh_from_db()
    assert customer.profiling_opt_out is True
    assert AuditEntry.objects.filter(subject_id=customer.pk, changes__has_key="profiling_opt_out").exists()


# --- export ------------------------------------------------------------------------------------------------


def test_export_is_refused_to_anonymous_other_owner_and_read_only_roles(users, api, customer):
    url = f"/api/v1/privacy/customers/{customer.pk}/export"
    assert api(None).get(url).status_code == 401
    assert api(users["rep_b"]).get(url).status_code == 404
    assert api(users["analyst"]).get(url).status_code == 403
    customer_services.share_customer(actor=users["rep"], customer_id=customer.pk, user_id=users["rep2"].pk)
    response = api(users["rep2"]).get(url)  # shared: may see and edit, but exporting is the owner side's call
    assert response.status_code == 403 and response.json()["error"]["code"] == "privacy_action_denied"
    assert not Event.objects.filter(type="customer.exported").exists()


def test_export_zip_holds_json_and_safe_csv_of_every_record_type(users, api, customer):
    customer_services.update_customer(
        actor=users["rep"], customer_id=customer.pk, version=customer.version, data={"industry": "=HYPERLINK(1)"}
    )
    orders.place_order(
        actor=users["rep"],
        data=orders.OrderData(
            customer_id=customer.pk,
            external_id="A-1",
            ordered_at=datetime(2024, 5, 1, tzinfo=UTC),
            amount=Decimal("99.50"),
            currency="CNY",
        ),
    )
    services.record_consent(actor=users["rep"], customer_id=customer.pk, channel="sms", status="granted", source="form")
    for who in ("rep", "manager", "admin"):
        response = api(users[who]).get(f"/api/v1/privacy/customers/{customer.pk}/export")
        assert response.status_code == 200, who
        assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"customer.json", "profile.csv", "orders.csv", "consents.csv", "tags.csv", "audit_trail.csv"} <= names
    document = json.loads(archive.read("customer.json"))
    records = document["records"]
    assert records["profile"][0]["display_name"] == "王小明"
    assert records["profile"][0]["phones"] == ["+8613812345678"]
    assert records["orders"][0]["amount"] == "99.50"
    assert records["consents"][0]["channel"] == "sms"
    assert records["tags"] == [{"tag": "VIP"}]
    profile = list(csv.DictReader(io.StringIO(archive.read("profile.csv").decode("utf-8-sig"))))
    assert profile[0]["industry"] == "'=HYPERLINK(1)"  # formula injection neutralised
    assert profile[0]["display_name"] == "王小明"
    exported = AuditEntry.objects.filter(subject_id=customer.pk, event__type="customer.exported")
    assert exported.count() == 3 and {e.actor_label for e in exported} == {"rep", "manager", "admin"}


# --- erasure -----------------------------------------------------------------------------------------------


def _strings_in_database() -> list[tuple[str, str]]:
    """Every text value of every table (JSON decoded, so SQLite's \\u escapes read as the characters)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 -- table names come from the database itself
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str):
                        if value[:1] in '[{"':
                            with contextlib.suppress(ValueError):
                                value = json.dumps(json.loads(value), ensure_ascii=False)
                        found.append((table, value))
    return found


def _survivors(needles) -> list[tuple[str, str, str]]:
    return [
        (table, needle, value[:120])
        for table, value in _strings_in_database()
        for needle in needles
        if needle.lower() in value.lower()
    ]


def test_erase_refused_to_anonymous_reps_other_team_and_without_reason(users, api, make_user, teams, customer):
    url = f"/api/v1/privacy/customers/{customer.pk}/erase"
    body = {"reason": "request by e-mail of 2024-05-02"}
    assert api(None).post(url, body, content_type="application/json").status_code == 401
    assert api(users["rep_b"]).post(url, body, content_type="application/json").status_code == 404
    response = api(users["rep"]).post(url, body, content_type="application/json")  # the owner: 403
    assert response.status_code == 403 and response.json()["error"]["code"] == "privacy_action_denied"
    other_manager = make_user("manager_b", "manager", teams[1])
    teams[1].managers.add(other_manager)
    assert api(other_manager).post(url, body, content_type="application/json").status_code == 404
    assert api(users["admin"]).post(url, {"reason": ""}, content_type="application/json").status_code == 422
    assert api(users["admin"]).post(url, {"reason": "   "}, content_type="application/json").status_code == 422
    assert not ErasureLog.objects.exists()
    customer.refresh_from_db()
    assert customer.display_name == "王小明"


def test_erasure_leaves_no_personal_string_anywhere_and_keeps_orders(users, api, customer):
    rep = users["rep"]
    teams = users["manager"].team
    teams.managers.add(users["manager"])
    customer = customer_services.update_customer(
        actor=rep,
        customer_id=customer.pk,
        version=customer.version,
        data={"phones": ["+8613812345678", "+8613900001111"], "display_name": "王小明 (Xiaoming Wang)"},
    )
    orders.place_order(
        actor=rep,
        data=orders.OrderData(
            customer_id=customer.pk,
            external_id="B-7",
            ordered_at=datetime(2024, 6, 1, tzinfo=UTC),
            amount=Decimal("1200.00"),
            currency="CNY",
        ),
    )
    services.record_consent(
        actor=rep,
        customer_id=customer.pk,
        channel="email_marketing",
        status="granted",
        source="email",
        evidence="wang.xiaoming@example.com wrote on 2024-01-02",
    )
    services.export_customer(actor=rep, customer_id=customer.pk)
    needles = [*NEEDLES, "13900001111", "Xiaoming Wang"]
    assert _survivors(needles), "the test data must be in the database before the erasure"

    response = api(users["manager"]).post(
        f"/api/v1/privacy/customers/{customer.pk}/erase",
        {"reason": "王小明 asked by phone on 2024-07-01"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    log = response.json()
    assert log["masked_identifiers"] == ["王***", "w***@e***.com", "+86 138****5678", "+86 139****1111", "WeChat w***"]
    assert log["reason"] == "[erased] asked by phone on 2024-07-01"
    assert log["counts"]["orders_kept"] == 1 and log["counts"]["consents"] == 1

    assert _survivors(needles) == []
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.display_name == f"Erased customer #{customer.pk}"
    assert erased.emails == [] and erased.phones == [] and erased.search_text == "" and erased.profiling_opt_out
    assert list(erased.tags.values_list("name", flat=True)) == ["VIP"]  # a shared, non-personal label
    order = Order.objects.get(external_id="B-7")
    assert order.customer_id == customer.pk and order.amount == Decimal("1200.00")
    assert not services.may_contact(erased, "email_marketing")
    history = AuditEntry.objects.filter(subject_type="customers.customer", subject_id=customer.pk)
    assert history.filter(event__type="customer.updated").exists()  # who changed what stays; the values do not
    assert history.get(event__type="customer.erased").actor_label == "manager"
    assert ErasureLog.objects.get().erased_by == users["manager"]
    assert api(users["admin"]).get("/api/v1/privacy/erasures").json()["total"] == 1
    assert api(users["rep"]).get("/api/v1/privacy/erasures").json()["total"] == 0


def test_erase_page_needs_the_customer_number_to_confirm(users, browser_for, customer):
    browser = browser_for(users["admin"])
    assert browser_for(users["rep"]).get(f"/privacy/customers/{customer.pk}/erase/").status_code == 404
    page = browser.get(f"/privacy/customers/{customer.pk}/erase/")
    assert page.status_code == 200 and "王小明" in page.content.decode()
    wrong = browser.post(f"/privacy/customers/{customer.pk}/erase/", {"reason": "asked", "confirm": "0"})
    assert wrong.status_code == 422
    assert not ErasureLog.objects.exists()
    done = browser.post(f"/privacy/customers/{customer.pk}/erase/", {"reason": "asked", "confirm": str(customer.pk)})
    assert done.status_code == 302
    assert Customer.objects.get(pk=customer.pk).display_name == f"Erased customer #{customer.pk}"
    assert browser.get("/privacy/erasures/").status_code == 200


def test_masks():
    assert services.mask_email("zhang.wei@example.com") == "z***@e***.com"
    assert services.mask_phone("+8613812345678") == "+86 138****5678"
    assert services.mask_phone("+14155550123") == "+141****23"
