import pytest
from django.test import Client

from guanxi.accounts.models import User


def test_passwords_are_stored_as_argon2_hashes(make_user, teams):
    user = make_user("hashed", "sales", teams[0], password="correct horse battery")
    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$") and "correct horse" not in stored


def test_login_and_logout_pages(make_user, teams):
    make_user("li", "sales", teams[0], password="correct horse battery")
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "li", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/customers/").status_code == 302


def test_login_form_needs_csrf(make_user, teams):
    make_user("li", "sales", teams[0], password="correct horse battery")
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": "li", "password": "correct horse battery"}).status_code == 403


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_for_that_address(make_user, teams, settings):
    make_user("li", "sales", teams[0], password="correct horse battery")
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/accounts/login/", {"username": "li", "password": "wrong"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "li", "password": "wrong"}).status_code == 429
    locked = client.post("/accounts/login/", {"username": "li", "password": "correct horse battery"})
    assert locked.status_code == 429
    assert client.get("/customers/").status_code == 302  # still not logged in


def test_profile_creates_shows_once_and_revokes_tokens(make_user, teams):
    user = make_user("li", "sales", teams[0])
    client = Client()
    client.force_login(user)
    created = client.post("/accounts/profile/", {"name": "ERP sync"}).content.decode()
    assert 'data-testid="new-token"' in created
    token = created.split('data-testid="new-token">')[1].split("<")[0]
    assert token.startswith("gx_")
    listing = client.get("/accounts/profile/").content.decode()
    assert token not in listing and "ERP sync" in listing
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/me").json()["username"] == "li"
    record = user.api_tokens.get()
    client.post(f"/accounts/tokens/{record.pk}/revoke/")
    assert api.get("/api/v1/me").status_code == 401


def test_token_api_create_list_revoke(make_user, teams, api):
    user = make_user("li", "sales", teams[0])
    other = make_user("other", "sales", teams[0])
    client = api(user)
    created = client.post("/api/v1/tokens", data={"name": "script"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["token"].startswith("gx_")
    listed = client.get("/api/v1/tokens").json()
    assert all("token" not in t and "digest" not in t for t in listed) and len(listed) == 2
    other_token = api(other).get("/api/v1/tokens").json()[0]["id"]
    assert client.delete(f"/api/v1/tokens/{other_token}").status_code == 404
    assert client.delete(f"/api/v1/tokens/{created.json()['id']}").status_code == 204
