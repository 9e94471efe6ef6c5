"""Writes to the purchase log."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.commerce.errors import DuplicateOrder, OrderAlreadyRefunded, OrderInvalid, OrderNotFound
from guanxi.commerce.models import Order, OrderLine, Product
from guanxi.core import access, events
from guanxi.core.errors import GuanxiError
from guanxi.customers.errors import CustomerNotFound


@dataclass(frozen=True)
class LineData:
    quantity: Decimal
    unit_price: Decimal
    sku: str = ""
    description: str = ""


@dataclass(frozen=True)
class OrderData:
    customer_id: int
    external_id: str
    ordered_at: datetime
    amount: Decimal
    currency: str = ""
    lines: list[LineData] = field(default_factory=list)


def _same(order: Order, data: OrderData, currency: str) -> bool:
    return (
        order.customer_id == data.customer_id
        and order.ordered_at == data.ordered_at
        and order.amount == data.amount
        and order.currency == currency
    )


def _check(data: OrderData) -> str:
    """The order's currency (default applied, upper-cased); raises OrderInvalid naming every bad field."""
    errors: dict[str, list[str]] = {}
    if data.amount < 0:
        errors["amount"] = [_("An amount cannot be negative.")]
    currency = (data.currency or settings.GUANXI_DEFAULT_CURRENCY).upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [_("Use a three-letter ISO 4217 code such as CNY.")]
    if not data.external_id.strip():
        errors["external_id"] = [_("An order number is required.")]
    for index, line in enumerate(data.lines):
        if line.quantity <= 0:
            errors[f"lines.{index}.quantity"] = [_("The quantity must be positive.")]
        if line.unit_price < 0:
            errors[f"lines.{index}.unit_price"] = [_("A price cannot be negative.")]
    if errors:
        raise OrderInvalid(_("The order is not valid."), **errors)
    return currency


@transaction.atomic
def place_order(*, actor, data: OrderData) -> tuple[Order, bool]:
    """Record an order of a customer the actor may edit. Returns (order, created).

    Idempotent on ``external_id``: sending the same order again returns the stored one; a different order
    under a used number is a DuplicateOrder. Emits ``order.placed``.
    """
    currency = _check(data)
    customer = access.editable_customers(actor).filter(pk=data.customer_id).first()
    if customer is None:
        raise CustomerNotFound(_("No customer with id %(id)s.") % {"id": data.customer_id})
    existing = Order.objects.select_for_update().filter(external_id=data.external_id).first()
    if existing is not None:
        if _same(existing, data, currency):
            return existing, False
        raise DuplicateOrder(
            _("Order number %(number)s is already used by another order.") % {"number": data.external_id}
        )

    order = Order.objects.create(
        customer=customer,
        external_id=data.external_id.strip(),
        ordered_at=data.ordered_at,
        amount=data.amount,
        currency=currency,
    )
    products = {p.sku: p for p in Product.objects.filter(sku__in=[ln.sku for ln in data.lines if ln.sku])}
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=products.get(line.sku),
                description=line.description or line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in data.lines
        ]
    )
    events.record(
        "order.placed",
        subject=order,
        actor=actor,
        payload={
            "customer_id": customer.pk,
            "amount": order.amount,
            "currency": currency,
            "ordered_at": order.ordered_at,
        },
        audit_action="create",
        changes={"external_id": [None, order.external_id], "amount": [None, order.amount]},
    )
    return order, True


@dataclass(frozen=True)
class PlaceResult:
    """What ``place_orders`` did with one order: created it, found it already stored (``created`` False), or
    refused it (``error``)."""

    order_id: int | None
    created: bool = False
    error: GuanxiError | None = None


_CHUNK = 500


@transaction.atomic
def place_orders(*, actor, orders: Sequence[OrderData]) -> list[PlaceResult]:
    """Record many orders in one transaction (imports); one result per order, in order.

    The same rules as ``place_order``, per order: an invalid order, one of a customer the actor may not edit, or
    a different order under a used number is refused (its result carries the error) without stopping the others.
    Idempotent on ``external_id``: an order already stored with the same data is returned, not created again.
    Orders and lines are written with bulk inserts. Emits one ``orders.placed`` event (and one audit entry) for
    the batch, listing the created order ids; nothing when nothing was created.
    """
    results: list[PlaceResult | None] = [None] * len(orders)
    currencies: dict[int, str] = {}
    for index, data in enumerate(orders):
        try:
            currencies[index] = _check(data)
        except OrderInvalid as exc:
            results[index] = PlaceResult(None, error=exc)
    wanted_customers = sorted({orders[i].customer_id for i in currencies})
    editable: set[int] = set()
    for start in range(0, len(wanted_customers), _CHUNK):
        chunk = wanted_customers[start : start + _CHUNK]
        editable |= set(access.editable_customers(actor).filter(pk__in=chunk).values_list("pk", flat=True))
    numbers = sorted({orders[i].external_id.strip() for i in currencies})
    stored: dict[str, Order] = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        stored.update({o.external_id: o for o in Order.objects.select_for_update().filter(external_id__in=chunk)})

    pending: dict[str, tuple[int, Order]] = {}
    for index, currency in currencies.items():
        data = orders[index]
        number = data.external_id.strip()
        if data.customer_id not in editable:
            results[index] = PlaceResult(
                None, error=CustomerNotFound(_("No customer with id %(id)s.") % {"id": data.customer_id})
            )
            continue
        existing = stored.get(number)
        if existing is None and number in pending:
            existing = pending[number][1]
        if existing is not None:
            if _same(existing, data, currency):
                results[index] = PlaceResult(existing.pk, created=False)
            else:
                results[index] = PlaceResult(
                    None,
                    error=DuplicateOrder(
                        _("Order number %(number)s is already used by another order.") % {"number": number}
                    ),
                )
            continue
        order = Order(
            customer_id=data.customer_id,
            external_id=number,
            ordered_at=data.ordered_at,
            amount=data.amount,
            currency=currency,
        )
        pending[number] = (index, order)

    if not pending:
        return [r for r in results if r is not None]
    created = Order.objects.bulk_create([order for _index, order in pending.values()], batch_size=_CHUNK)
    skus = sorted({ln.sku for _index, _order in pending.values() for ln in orders[_index].lines if ln.sku})
    products: dict[str, Product] = {}
    for start in range(0, len(skus), _CHUNK):
        products.update({p.sku: p for p in Product.objects.filter(sku__in=skus[start : start + _CHUNK])})
    lines = []
    for index, order in pending.values():
        results[index] = PlaceResult(order.pk, created=True)
        for line in orders[index].lines:
            lines.append(
                OrderLine(
                    order=order,
                    product=products.get(line.sku),
                    description=(line.description or line.sku)[:200],
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
            )
    OrderLine.objects.bulk_create(lines, batch_size=_CHUNK)
    for index, result in enumerate(results):
        # An order repeated inside the batch resolved to the pending one before its pk existed.
        if result is not None and not result.created and result.error is None and result.order_id is None:
            results[index] = PlaceResult(pending[orders[index].external_id.strip()][1].pk, created=False)
    order_ids = [order.pk for order in created]
    events.record(
        "orders.placed",
        subject=created[0],
        actor=actor,
        payload={
            "order_ids": order_ids,
            "customer_ids": sorted({order.customer_id for order in created}),
            "count": len(order_ids),
        },
        audit_action="create",
        changes={"order_ids": [None, order_ids]},
    )
    return [r for r in results if r is not None]


@transaction.atomic
def refund_order(*, actor, order_id: int, reason: str = "") -> Order:
    """Mark a whole order refunded (an order of a customer the actor may edit; otherwise not found).

    Refunding twice is a 409 (OrderAlreadyRefunded). Emits ``order.refunded`` (payload customer_id, order_id,
    amount), on which loyalty takes back the order's points in the same transaction. The order stays in the
    purchase log with ``refunded_at`` set.
    """
    order = Order.objects.select_for_update().filter(pk=order_id, customer__in=access.editable_customers(actor)).first()
    if order is None:
        raise OrderNotFound(_("No order with id %(id)s.") % {"id": order_id})
    if order.refunded_at is not None:
        raise OrderAlreadyRefunded(
            _("Order %(number)s was already refunded.") % {"number": order.external_id},
            refunded_at=order.refunded_at.isoformat(),
        )
    order.refunded_at = timezone.now()
    order.refund_reason = (reason or "").strip()[:255]
    order.save(update_fields=["refunded_at", "refund_reason"])
    events.record(
        "order.refunded",
        subject=order,
        actor=actor,
        payload={
            "customer_id": order.customer_id,
            "order_id": order.pk,
            "amount": order.amount,
            "currency": order.currency,
            "reason": order.refund_reason,
        },
        audit_action="update",
        changes={"refunded_at": [None, order.refunded_at], "refund_reason": ["", order.refund_reason]},
    )
    return order
