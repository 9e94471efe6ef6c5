"""The webhooks' part of a customer's erasure (customers.personal_data).

A delivery copies the event it carries, so a message about an erased customer would keep their data in the log.
Erasure empties the payload, request bodies and response excerpts of every delivery about the customer (by
``customer_id`` or as the event's subject) and stops those not sent yet; the log keeps when and where.
"""

from django.db.models import Q
from django.utils import timezone

from guanxi.integrations.models import WebhookAttempt, WebhookDelivery


def _about(customer) -> Q:
    return (
        Q(payload__customer_id=customer.pk)
        | Q(payload__payload__customer_id=customer.pk)
        | Q(payload__subject_type="customers.customer", payload__subject_id=customer.pk)
    )


def erase_deliveries(customer, needles: list[str]) -> int:
    ids = list(WebhookDelivery.objects.filter(_about(customer)).values_list("pk", flat=True))
    if not ids:
        return 0
    WebhookAttempt.objects.filter(delivery_id__in=ids).update(request_body="", response_excerpt="")
    WebhookDelivery.objects.filter(
        pk__in=ids, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING]
    ).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error="Customer data erased.")
    return WebhookDelivery.objects.filter(pk__in=ids).update(
        payload={"erased": True, "erased_at": timezone.now().isoformat()}, response_excerpt=""
    )
