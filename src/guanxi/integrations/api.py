"""/api/v1/webhooks: endpoints (CRUD, secret, rotation, test message), the delivery log and redelivery. Admins."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id
from guanxi.integrations import selectors, services
from guanxi.integrations.schemas import (
    DeliveryDetail,
    DeliveryList,
    DeliveryOut,
    DeliveryQuery,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointWithSecret,
    SecretOut,
)

router = Router(tags=["webhooks"])


@router.get("/endpoints", response={200: list[EndpointOut], **ERRORS})
def list_endpoints(request: HttpRequest):
    """Every registered receiver (admins)."""
    return list(selectors.endpoints(request.auth))


@router.post("/endpoints", response={201: EndpointWithSecret, **ERRORS})
def create_endpoint(request: HttpRequest, payload: EndpointIn):
    """Register a receiver. The answer carries the signing secret (``whsec_...``): verify each message's
    ``webhook-signature`` with it (docs/webhooks.md). 422 ``destination_refused`` when the URL is not http(s),
    does not resolve, or resolves to a loopback/private/link-local address and ``allow_private`` is off."""
    endpoint = services.create_endpoint(actor=request.auth, **payload.dict())
    return Status(201, endpoint)


@router.get("/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def get_endpoint(request: HttpRequest, endpoint_id: Id):
    """One receiver."""
    return selectors.get_endpoint(request.auth, endpoint_id)


@router.patch("/endpoints/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def update_endpoint(request: HttpRequest, endpoint_id: Id, payload: EndpointPatch):
    """Change the fields you send; ``version`` is the one you read (409 ``stale_version`` otherwise)."""
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    data = {name: value for name, value in data.items() if value is not None}
    return services.update_endpoint(actor=request.auth, endpoint_id=endpoint_id, version=version, data=data)


@router.delete("/endpoints/{endpoint_id}", response={204: None, **ERRORS})
def delete_endpoint(request: HttpRequest, endpoint_id: Id):
    """Remove a receiver; its delivery log stays and its pending deliveries stop."""
    services.delete_endpoint(actor=request.auth, endpoint_id=endpoint_id)
    return Status(204, None)


@router.get("/endpoints/{endpoint_id}/secret", response={200: SecretOut, **ERRORS})
def get_secret(request: HttpRequest, endpoint_id: Id):
    """The current signing secret."""
    return selectors.get_endpoint(request.auth, endpoint_id)


@router.post("/endpoints/{endpoint_id}/rotate-secret", response={200: SecretOut, **ERRORS})
def rotate_secret(request: HttpRequest, endpoint_id: Id):
    """A new signing secret. For 24 hours every message is signed with both (two ``v1,`` signatures)."""
    return services.rotate_secret(actor=request.auth, endpoint_id=endpoint_id)


@router.post("/endpoints/{endpoint_id}/test", response={202: DeliveryOut, **ERRORS})
def send_test(request: HttpRequest, endpoint_id: Id):
    """Queue a ``webhook.test`` message to this receiver; follow it in the delivery log."""
    return Status(202, services.send_test(actor=request.auth, endpoint_id=endpoint_id))


@router.get("/deliveries", response={200: DeliveryList, **ERRORS})
def list_deliveries(request: HttpRequest, filters: Query[DeliveryQuery]):
    """The delivery log, newest first, filtered by status, endpoint and event type (exact or prefix)."""
    rows = selectors.deliveries(
        request.auth, status=filters.status or "", endpoint_id=filters.endpoint_id, event_type=filters.event_type
    )
    page = paginate(rows, limit=filters.limit, offset=filters.offset)
    return {"items": page.items, "total": page.total, "limit": filters.limit, "offset": filters.offset}


@router.get("/deliveries/{delivery_id}", response={200: DeliveryDetail, **ERRORS})
def get_delivery(request: HttpRequest, delivery_id: Id):
    """One delivery with every attempt: the request headers and body as sent, the status and response excerpt."""
    return selectors.get_delivery(request.auth, delivery_id)


@router.post("/deliveries/{delivery_id}/redeliver", response={202: DeliveryOut, **ERRORS})
def redeliver(request: HttpRequest, delivery_id: Id):
    """Send a finished (failed or succeeded) delivery again, with the same ``webhook-id`` and body, as a new
    delivery. 409 ``webhook_delivery_in_progress`` while it is still being tried."""
    return Status(202, services.redeliver(actor=request.auth, delivery_id=delivery_id))
