from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.commerce import selectors, services
from guanxi.commerce.models import Order
from guanxi.commerce.schemas import OrderCreate, OrderList, OrderOut, OrderQuery, RefundIn
from guanxi.core.pagination import paginate
from guanxi.core.schemas import ERRORS, Id

router = Router(tags=["orders"])


def present(order: Order) -> dict:
    return {
        "id": order.pk,
        "customer_id": order.customer_id,
        "external_id": order.external_id,
        "ordered_at": order.ordered_at,
        "amount": order.amount,
        "currency": order.currency,
        "refunded_at": order.refunded_at,
        "refund_reason": order.refund_reason,
        "lines": [
            {"description": ln.description, "quantity": ln.quantity, "unit_price": ln.unit_price}
            for ln in order.lines.all()
        ],
    }


@router.get("", response={200: OrderList, **ERRORS})
def list_orders(request: HttpRequest, filters: Query[OrderQuery]):
    """Orders of the customers you can see, newest first."""
    page = paginate(
        selectors.list_orders(
            request.auth,
            customer_id=filters.customer_id,
            ordered_after=filters.ordered_after,
            ordered_before=filters.ordered_before,
        ),
        limit=filters.limit,
        offset=filters.offset,
    )
    return {
        "items": [present(o) for o in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get("/{order_id}", response={200: OrderOut, **ERRORS})
def get_order(request: HttpRequest, order_id: Id):
    """One order of a customer you can see."""
    return present(selectors.get_order(request.auth, order_id))


@router.post("", response={200: OrderOut, 201: OrderOut, **ERRORS})
def place_order(request: HttpRequest, payload: OrderCreate):
    """Record an order. Sending the same ``external_id`` again returns the stored order (200) instead of a copy;
    a different order under a used number is a 409."""
    data = payload.dict()
    lines = [services.LineData(**line) for line in data.pop("lines")]
    order, created = services.place_order(actor=request.auth, data=services.OrderData(**data, lines=lines))
    return Status((201 if created else 200), present(selectors.get_order(request.auth, order.pk)))


@router.post("/{order_id}/refund", response={200: OrderOut, **ERRORS})
def refund_order(request: HttpRequest, order_id: Id, payload: RefundIn):
    """Mark the whole order refunded (an order of a customer you may change). The points it earned are taken
    back at once (as far as the balance allows). Refunding again is a 409 ``order_already_refunded``."""
    order = services.refund_order(actor=request.auth, order_id=order_id, reason=payload.reason)
    return present(selectors.get_order(request.auth, order.pk))
