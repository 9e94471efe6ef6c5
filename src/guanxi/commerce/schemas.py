from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema


class OrderLineIn(InputSchema):
    sku: str = Field("", max_length=64)
    description: str = Field("", max_length=200)
    quantity: Decimal = Field(..., gt=0, max_digits=12, decimal_places=3)
    unit_price: Decimal = Field(..., ge=0, max_digits=14, decimal_places=2)


class OrderCreate(InputSchema):
    customer_id: Id
    external_id: str = Field(..., min_length=1, max_length=100, description="Your order number; makes retries safe")
    ordered_at: datetime
    amount: Decimal = Field(..., ge=0, max_digits=14, decimal_places=2)
    currency: str = Field("", max_length=3, description="ISO 4217; the default currency when empty")
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=500)


class OrderLineOut(Schema):
    description: str
    quantity: Decimal
    unit_price: Decimal


class OrderOut(Schema):
    id: int
    customer_id: int
    external_id: str
    ordered_at: datetime
    amount: Decimal
    currency: str
    refunded_at: datetime | None = None
    refund_reason: str = ""
    lines: list[OrderLineOut]


class OrderList(Schema):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


class OrderQuery(InputSchema):
    customer_id: Id | None = None
    ordered_after: datetime | None = None
    ordered_before: datetime | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class RefundIn(InputSchema):
    reason: str = Field("", max_length=255)
