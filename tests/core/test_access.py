"""The access policy, through the selectors every read starts from."""

from guanxi.core import access
from guanxi.customers import selectors, services


def names(qs):
    return sorted(c.display_name for c in qs)


def test_anonymous_and_inactive_users_see_nothing(users, make_customer):
    make_customer(users["rep"], display_name="Mine")
    assert not access.visible_customers(None).exists()
    users["rep"].is_active = False
    assert not access.visible_customers(users["rep"]).exists()


def test_rep_sees_own_and_shared_customers_only(users, make_customer):
    make_customer(users["rep"], display_name="Own")
    other = make_customer(users["rep2"], display_name="Colleague's")
    make_customer(users["rep_b"], display_name="Other team")
    assert names(selectors.list_customers(users["rep"])) == ["Own"]

    services.share_customer(actor=users["rep2"], customer_id=other.pk, user_id=users["rep"].pk)
    assert names(selectors.list_customers(users["rep"])) == ["Colleague's", "Own"]


def test_manager_sees_led_teams_and_not_others(users, make_customer):
    make_customer(users["rep"], display_name="A1")
    make_customer(users["rep2"], display_name="A2")
    make_customer(users["rep_b"], display_name="B1")
    assert names(selectors.list_customers(users["manager"])) == ["A1", "A2"]


def test_admin_and_analyst_see_everyone_but_analyst_gets_no_personal_data(users, make_customer):
    make_customer(users["rep"], display_name="A1")
    make_customer(users["rep_b"], display_name="B1")
    assert names(selectors.list_customers(users["admin"])) == ["A1", "B1"]
    assert selectors.list_customers(users["analyst"]).count() == 2
    assert not access.can_see_personal_data(users["analyst"])
    assert access.can_see_personal_data(users["rep"])


def test_support_agent_sees_nothing_until_a_queue_scope_is_registered(users, make_customer):
    customer = make_customer(users["rep"], display_name="With ticket")
    assert not access.visible_customers(users["support"]).exists()

    def scope(user, prefix):
        from django.db.models import Q

        return Q(**{f"{prefix}pk__in": [customer.pk]}) if user.role == "support" else access.NOTHING

    access.register_support_scope(scope)
    try:
        assert names(access.visible_customers(users["support"])) == ["With ticket"]
        assert not access.editable_customers(users["support"]).exists()
    finally:
        access._support_scopes.remove(scope)


def test_deleted_customers_are_invisible(users, make_customer):
    customer = make_customer(users["rep"], display_name="Gone")
    services.delete_customer(actor=users["rep"], customer_id=customer.pk)
    assert not selectors.list_customers(users["rep"]).exists()
    assert not selectors.list_customers(users["admin"]).exists()


def test_only_the_owner_side_may_delete(users, make_customer):
    customer = make_customer(users["rep2"], display_name="Shared")
    services.share_customer(actor=users["rep2"], customer_id=customer.pk, user_id=users["rep"].pk)
    assert access.editable_customers(users["rep"]).filter(pk=customer.pk).exists()
    assert not access.editable_customers(users["rep"], for_delete=True).filter(pk=customer.pk).exists()
