from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class DestinationRefused(ValidationFailed):
    """The URL is not http(s), does not resolve, or resolves to an address webhooks may not reach (SSRF guard)."""

    code = "destination_refused"


class WebhookInvalid(ValidationFailed):
    code = "webhook_invalid"


class WebhooksDenied(PermissionDenied):
    """Only admins manage webhook endpoints and read the delivery log."""

    code = "webhooks_denied"


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


class DeliveryInProgress(Conflict):
    """A delivery that is still being tried cannot be redelivered."""

    code = "webhook_delivery_in_progress"
