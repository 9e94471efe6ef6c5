"""Writes to the purchase log."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.commerce.errors import DuplicateOrder, OrderInvalid
from guanxi.commerce.models import Order, OrderLine, Product
from guanxi.core import access, events
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


@transaction.atomic
def place_order(*, actor, data: OrderData) -> tuple[Order, bool]:
    """Record an order of a customer the actor may edit. Returns (order, created).

    Idempotent on ``external_id``: sending the same order again returns the stored one; a different order
    under a used number is a DuplicateOrder. Emits ``order.placed``.
    """
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
