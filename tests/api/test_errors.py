"""How the API answers when the database cannot take a request: a 503 that says to retry, never a 500."""

import json

from django.db import OperationalError
from django.test import RequestFactory

from guanxi.api import api


def test_a_busy_database_is_a_503_with_retry_after():
    request = RequestFactory().post("/api/v1/orders")
    response = api.on_exception(request, OperationalError("database is locked"))
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    error = json.loads(response.content)["error"]
    assert error["code"] == "database_busy" and "nothing was saved" in error["message"]


def test_any_other_exception_is_still_a_logged_500():
    request = RequestFactory().get("/api/v1/customers")
    response = api.on_exception(request, ValueError("a bug"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "internal_error"
