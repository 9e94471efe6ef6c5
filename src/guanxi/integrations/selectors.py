"""Every read of the integrations app. Webhooks are an admin tool: other roles get WebhooksDenied (403)."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.integrations.errors import DeliveryNotFound, EndpointNotFound, WebhooksDenied
from guanxi.integrations.models import WebhookDelivery, WebhookEndpoint


def _require_admin(user) -> None:
    if access.role_of(user) != access.ADMIN:
        raise WebhooksDenied(_("Only admins can manage webhooks."))


def endpoints(user) -> QuerySet[WebhookEndpoint]:
    _require_admin(user)
    return WebhookEndpoint.objects.order_by("id")


def get_endpoint(user, endpoint_id: int) -> WebhookEndpoint:
    endpoint = endpoints(user).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise EndpointNotFound(_("No webhook endpoint with id %(id)s.") % {"id": endpoint_id})
    return endpoint


def deliveries(
    user, *, status: str = "", endpoint_id: int | None = None, event_type: str = ""
) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first; ``event_type`` matches exactly or as a prefix ("customer.")."""
    _require_admin(user)
    rows = WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-id")
    if status:
        rows = rows.filter(status=status)
    if endpoint_id:
        rows = rows.filter(endpoint_id=endpoint_id)
    if event_type:
        rows = rows.filter(event_type__startswith=event_type)
    return rows


def get_delivery(user, delivery_id: int) -> WebhookDelivery:
    """One delivery with its attempts (request headers and body as sent, the response excerpt)."""
    _require_admin(user)
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "redelivery_of")
        .prefetch_related("attempt_log")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise DeliveryNotFound(_("No webhook delivery with id %(id)s.") % {"id": delivery_id})
    return delivery


def recent_event_types(user, limit: int = 200) -> list[str]:
    """Event types seen in the delivery log, for the filter's suggestions."""
    _require_admin(user)
    return sorted(set(WebhookDelivery.objects.order_by().values_list("event_type", flat=True).distinct()[:limit]))
