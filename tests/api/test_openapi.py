"""Schemathesis against our own OpenAPI document: generated requests (valid and invalid) never get a 5xx,
and every response matches the schema that the document declares."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from guanxi.accounts import services as accounts
from guanxi.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]


@pytest.fixture
def keep_test_connection():
    """Schemathesis calls the raw WSGI app, whose request signals would close the connection that holds the
    test's transaction (on PostgreSQL); Django's own test client detaches the same handlers."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(users, make_customer, keep_test_connection):
    make_customer(users["rep"], display_name="王小明", phones=["13812345678"], tags=["vip"])
    make_customer(users["rep"], display_name="Alice", emails=["alice@example.com"])
    _record, token = accounts.create_api_token(user=users["rep"], name="schemathesis")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=CHECKS)


def test_the_document_lists_every_endpoint_with_the_error_schema(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert {
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/orders",
        "/api/v1/health",
    } <= set(paths)
    put = paths["/api/v1/customers/{customer_id}"]["put"]["responses"]
    assert {"200", "401", "404", "409", "422"} <= set(put)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower() and "/static/ninja/swagger-ui-bundle.js" in docs.content.decode()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
