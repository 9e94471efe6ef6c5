"""The REST API: one NinjaAPI under /api/v1/, its authentication and its error format.

Errors are always ``{"error": {"code", "message", "details"}}``; see docs/api.md.
"""

import logging

from django.conf import settings
from django.db import OperationalError, connection
from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

import guanxi
from guanxi.accounts.api import router as accounts_router
from guanxi.accounts.errors import InvalidToken
from guanxi.accounts.services import authenticate_token
from guanxi.automation.api import router as automation_router
from guanxi.commerce.api import router as orders_router
from guanxi.core.errors import GuanxiError
from guanxi.customers.api import router as customers_router
from guanxi.deals.api import router as deals_router
from guanxi.engagement.api import router as interactions_router
from guanxi.followups.api import router as followups_router
from guanxi.integrations.api import router as webhooks_router
from guanxi.lifecycle.api import router as lifecycle_router
from guanxi.loyalty.api import router as loyalty_router
from guanxi.notifications.api import router as notifications_router
from guanxi.offers.api import router as offers_router
from guanxi.ownership.api import router as ownership_router
from guanxi.privacy.api import router as privacy_router
from guanxi.quality.api import router as quality_router
from guanxi.segments.api import router as scores_router
from guanxi.sla.api import router as sla_router
from guanxi.surveys.api import router as surveys_router
from guanxi.tickets.api import router as tickets_router

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    """``Authorization: Bearer gx_...``: a token created with ``guanxi token create`` or on the profile page."""

    def authenticate(self, request: HttpRequest, token: str):
        try:
            user = authenticate_token(token)
        except InvalidToken:
            return None
        request.user = user
        return user


class BrowserSession(APIKeyCookie):
    """The web app's session cookie. Unsafe methods need the CSRF token (``X-CSRFToken`` header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the csrftoken cookie's value in X-CSRFToken.")
        return user


api = NinjaAPI(
    title="Guanxi API",
    version="1",
    description=(
        "Customer lifecycle management. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `guanxi token create USER`) or with the browser session plus its CSRF token. "
        'Errors are `{"error": {"code", "message", "details"}}`.'
    ),
    auth=[BearerToken(), BrowserSession()],
    urls_namespace="api",
)


def error_response(request, status: int, code: str, message: str, details=None):
    return api.create_response(
        request, {"error": {"code": code, "message": message, "details": details or {}}}, status=status
    )


@api.exception_handler(GuanxiError)
def on_domain_error(request, exc: GuanxiError):
    return error_response(request, exc.status, exc.code, exc.message, exc.details)


def _field_path(loc) -> str:
    # ninja prefixes locations with the parameter source and name ("body", "data", ...): drop them.
    parts = [str(p) for p in loc]
    while parts and parts[0] in {
        "body",
        "query",
        "path",
        "header",
        "cookie",
        "form",
        "data",
        "payload",
        "filters",
    }:
        parts.pop(0)
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        fields.setdefault(_field_path(error.get("loc", ())), []).append(error.get("msg", "invalid"))
    return error_response(request, 422, "validation_failed", "The request is not valid.", fields)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return error_response(
        request,
        401,
        "authentication_required",
        "Send a valid API token (Authorization: Bearer ...) or log in.",
    )


@api.exception_handler(AuthorizationError)
def on_forbidden(request, exc):
    return error_response(request, 403, "permission_denied", str(exc) or "Not allowed.")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    codes = {400: "bad_request", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}
    return error_response(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(OperationalError)
def on_database_busy(request, exc: OperationalError):
    """The database could not take the request now (SQLite's lock wait ran out under a burst of writes, a
    PostgreSQL lock or statement timeout, a lost connection): nothing was written; the client may retry."""
    logger.warning("API request refused, database busy or unavailable: %s", exc)
    response = error_response(
        request, 503, "database_busy", "The database is busy; nothing was saved. Retry in a moment."
    )
    response["Retry-After"] = "1"
    return response


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    logger.exception("Unhandled API error")
    return error_response(request, 500, "internal_error", "Internal error; it has been logged.")


class HealthOut(Schema):
    status: str
    version: str
    database: bool


@api.get("/health", auth=None, response=HealthOut, tags=["health"])
def health(request):
    """Liveness and readiness: the running version and whether the database answers. No authentication."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            database = cursor.fetchone() == (1,)
    except Exception:  # any driver error means "not ready"
        logger.exception("Health check: database unreachable")
        database = False
    return {"status": "ok" if database else "degraded", "version": guanxi.__version__, "database": database}


api.add_router("/customers", customers_router)
api.add_router("/orders", orders_router)
api.add_router("/scores", scores_router)
api.add_router("/ownership", ownership_router)
api.add_router("/notifications", notifications_router)
api.add_router("/privacy", privacy_router)
api.add_router("/interactions", interactions_router)
api.add_router("/follow-ups", followups_router)
api.add_router("/lifecycle", lifecycle_router)
api.add_router("/automation", automation_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/tickets", tickets_router)
api.add_router("/sla", sla_router)
api.add_router("/surveys", surveys_router)
api.add_router("/service-quality", quality_router)
api.add_router("/loyalty", loyalty_router)
api.add_router("/offers", offers_router)
api.add_router("/deals", deals_router)
api.add_router("/", accounts_router)
