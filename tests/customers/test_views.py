"""Customer pages: scope, forms through the services, HTMX fragments, and query counts."""

from django.test import Client

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer


def test_pages_need_login(db):
    for url in ("/", "/customers/", "/customers/new/", "/customers/1/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_shows_only_visible_customers_and_searches(users, browser_for, make_customer):
    make_customer(users["rep"], display_name="王小明")
    make_customer(users["rep"], display_name="Alice")
    make_customer(users["rep2"], display_name="Hidden Colleague")
    page = browser_for(users["rep"]).get("/customers/").content.decode()
    assert "王小明" in page and "Alice" in page and "Hidden Colleague" not in page
    found = browser_for(users["rep"]).get(
        "/customers/", {"q": "小明"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    body = found.content.decode()
    assert "王小明" in body and "Alice" not in body
    assert "<html" not in body  # an HTMX request gets the fragment only
    assert browser_for(users["rep"]).get("/customers/?q=%00%E7%8E%8B").status_code == 200


def test_detail_of_another_reps_customer_is_404(users, browser_for, make_customer):
    theirs = make_customer(users["rep2"], display_name="Theirs")
    client = browser_for(users["rep"])
    for url in (
        f"/customers/{theirs.pk}/",
        f"/customers/{theirs.pk}/edit/",
        f"/customers/{theirs.pk}/delete/",
    ):
        assert client.get(url).status_code == 404
    assert (
        client.post(
            f"/customers/{theirs.pk}/edit/",
            {"kind": "person", "display_name": "Stolen", "source": "manual", "version": 1},
        ).status_code
        == 404
    )
    assert client.post(f"/customers/{theirs.pk}/delete/", {"version": 1}).status_code == 404
    fresh = Customer.objects.get(pk=theirs.pk)
    assert fresh.display_name == "Theirs" and fresh.deleted_at is None


def test_analyst_pages_hide_personal_data(users, browser_for, make_customer):
    customer = make_customer(users["rep"], display_name="王小明", phones=["13812345678"], company="星辰科技")
    client = browser_for(users["analyst"])
    for url in ("/customers/", f"/customers/{customer.pk}/"):
        body = client.get(url).content.decode()
        assert "王小明" not in body and "+8613812345678" not in body and "星辰科技" not in body
    searched = client.get("/customers/", {"q": "王"})
    assert searched.status_code == 200 and "王小明" not in searched.content.decode()


def test_create_form_goes_through_the_service(users, browser_for):
    client = browser_for(users["rep"])
    assert client.get("/customers/new/").status_code == 200
    response = client.post(
        "/customers/new/",
        {
            "kind": "person",
            "family_name": "李",
            "given_name": "娜",
            "phones": "138 1234 5678\n",
            "emails": "LN@Example.com",
            "tags": "VIP, 老客户",
            "source": "wechat",
        },
    )
    customer = Customer.objects.get(display_name="李娜")
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    assert customer.owner == users["rep"] and customer.phones == ["+8613812345678"]
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "老客户"]
    assert AuditEntry.objects.filter(subject_type="customers.customer", subject_id=customer.pk).count() == 1


def test_create_form_shows_field_errors_and_saves_nothing(users, browser_for):
    response = browser_for(users["rep"]).post(
        "/customers/new/", {"kind": "person", "display_name": "Bad", "emails": "nope", "source": "manual"}
    )
    assert response.status_code == 200
    assert "not a valid e-mail address" in response.content.decode()
    assert not Customer.objects.filter(display_name="Bad").exists()


def test_edit_with_htmx_redirects_and_stale_edit_is_refused(users, browser_for, make_customer):
    customer = make_customer(users["rep"], display_name="Edit me", company="Old")
    client = browser_for(users["rep"])
    form = client.get(f"/customers/{customer.pk}/edit/", headers={"HX-Request": "true"})
    assert form.status_code == 200 and "<html" not in form.content.decode()
    data = {"kind": "person", "display_name": "Edit me", "company": "New", "source": "manual", "version": 1}
    saved = client.post(f"/customers/{customer.pk}/edit/", data, headers={"HX-Request": "true"})
    assert saved.status_code == 204 and saved["HX-Redirect"] == f"/customers/{customer.pk}/"
    stale = client.post(f"/customers/{customer.pk}/edit/", {**data, "company": "Overwrite"})
    assert stale.status_code == 200 and "Someone else changed this record" in stale.content.decode()
    assert Customer.objects.get(pk=customer.pk).company == "New"
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Old" in detail and "New" in detail  # the audit trail shows before and after


def test_delete_asks_for_confirmation_then_soft_deletes(users, browser_for, make_customer):
    customer = make_customer(users["rep"], display_name="Bye")
    client = browser_for(users["rep"])
    assert "Bye" in client.get(f"/customers/{customer.pk}/delete/").content.decode()
    assert Customer.objects.get(pk=customer.pk).deleted_at is None
    response = client.post(f"/customers/{customer.pk}/delete/", {"version": 1})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None


def test_list_page_query_count_does_not_grow_with_rows(
    users, browser_for, make_customer, django_assert_max_num_queries
):
    client = browser_for(users["rep"])
    make_customer(users["rep"], display_name="First", tags=["x"])
    client.get("/customers/")
    with django_assert_max_num_queries(20) as one:
        client.get("/customers/")
    for i in range(24):
        make_customer(users["rep"], display_name=f"C{i}", tags=["x", "y"])
    with django_assert_max_num_queries(20) as many:
        assert client.get("/customers/").content.decode().count('href="/customers/') >= 25
    assert len(many.captured_queries) == len(one.captured_queries)


def test_dashboard_renders_with_charts_served_locally(users, browser_for, make_customer):
    make_customer(users["rep"], display_name="One")
    body = browser_for(users["rep"]).get("/").content.decode()
    assert "/static/vendor/plotly.min.js" in body and "htmx" in body
    assert "https://" not in body.split("<body")[0]  # nothing in <head> comes from a CDN


def test_static_vendor_files_are_served(client):
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200


def test_history_shows_names_and_labels_not_ids_or_codes(users, browser_for, make_customer):
    from guanxi.customers import services

    customer = make_customer(users["rep"], display_name="Moved", wechat_id="wx_old", tags=["a"])
    services.update_customer(
        actor=users["manager"],
        customer_id=customer.pk,
        version=1,
        data={"owner_id": users["rep2"].pk, "source": "referral", "wechat_id": "wx_new", "tags": ["a", "b"]},
    )
    users["rep2"].display_name = "Wang Fang 王芳"
    users["rep2"].save()
    trail = browser_for(users["manager"]).get(f"/customers/{customer.pk}/").content.decode()
    history = trail.split('data-testid="audit-trail"')[1]
    assert "Wang Fang 王芳" in history and "Referral" in history and "WeChat ID" in history
    assert "a、b" in history
    assert "wechat_id" not in history and "referral<" not in history
