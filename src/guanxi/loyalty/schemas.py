from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, Version


class ProgrammeOut(Schema):
    name: str
    name_zh_hans: str
    points_per_unit: Decimal
    points_per_order: int
    currency: str
    expiry: str
    expiry_months: int
    window_months: int
    adjustment_threshold: int
    version: int


class ProgrammeIn(InputSchema):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=120)
    name_zh_hans: str | None = Field(None, max_length=120)
    points_per_unit: Decimal | None = Field(None, ge=0, max_digits=8, decimal_places=3)
    points_per_order: int | None = Field(None, ge=0, le=1_000_000)
    currency: str | None = Field(None, min_length=3, max_length=3)
    expiry: str | None = Field(None, description="end_of_next_year, months or never")
    expiry_months: int | None = Field(None, ge=1, le=240)
    window_months: int | None = Field(None, ge=1, le=120)
    adjustment_threshold: int | None = Field(None, ge=0, le=100_000_000)


class TierOut(Schema):
    id: int
    key: str
    name: str
    name_zh_hans: str
    rank: int
    min_points: int
    min_spend: Decimal
    multiplier: Decimal
    discount_percent: Decimal
    benefits: str
    benefits_zh_hans: str


class TierIn(InputSchema):
    key: str = Field(..., min_length=1, max_length=30, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(..., min_length=1, max_length=60)
    name_zh_hans: str = Field("", max_length=60)
    rank: int = Field(..., ge=0, le=1000)
    min_points: int = Field(0, ge=0, le=2_000_000_000)
    min_spend: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)
    multiplier: Decimal = Field(Decimal(1), ge=0, max_digits=5, decimal_places=2)
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)
    benefits: str = Field("", max_length=2000)
    benefits_zh_hans: str = Field("", max_length=2000)


class TierPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=60)
    name_zh_hans: str | None = Field(None, max_length=60)
    rank: int | None = Field(None, ge=0, le=1000)
    min_points: int | None = Field(None, ge=0, le=2_000_000_000)
    min_spend: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    multiplier: Decimal | None = Field(None, ge=0, max_digits=5, decimal_places=2)
    discount_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    benefits: str | None = Field(None, max_length=2000)
    benefits_zh_hans: str | None = Field(None, max_length=2000)


class MemberOut(Schema):
    customer_id: int
    customer_name: str
    tier: str
    tier_name: str
    balance: int
    joined_at: datetime | None
    birth_date: date | None
    window_points: int
    window_spend: Decimal
    next_tier: str | None
    points_to_next: int | None
    spend_to_next: Decimal | None
    progress: float
    version: int


class MemberRow(Schema):
    customer_id: int
    customer_name: str
    tier: str
    balance: int
    joined_at: datetime


class MemberList(Schema):
    items: list[MemberRow]
    total: int
    limit: int
    offset: int


class MemberQuery(InputSchema):
    tier: str = Field("", max_length=30)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class EntryOut(Schema):
    id: int
    kind: str
    points: int
    source_key: str
    order_id: int | None
    at: datetime
    expires_on: date | None
    reason: str
    detail: dict
    actor: str | None
    reverses_id: int | None


class EntryList(Schema):
    items: list[EntryOut]
    total: int
    limit: int
    offset: int


class PageQuery(InputSchema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class RedeemIn(InputSchema):
    customer_id: Id
    points: int = Field(..., ge=1, le=100_000_000)
    idempotency_key: str = Field(..., min_length=1, max_length=120, description="Makes retries safe")
    reason: str = Field("", max_length=255)


class AdjustIn(InputSchema):
    customer_id: Id
    points: int = Field(..., ge=-100_000_000, le=100_000_000, description="Positive credits, negative debits")
    reason: str = Field(..., min_length=1, max_length=255)
    idempotency_key: str = Field(..., min_length=1, max_length=120)


class CampaignOut(Schema):
    id: int
    name: str
    name_zh_hans: str
    multiplier: Decimal
    bonus_points: int
    starts_at: datetime
    ends_at: datetime
    rule: str
    active: bool


class CampaignIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    name_zh_hans: str = Field("", max_length=120)
    multiplier: Decimal = Field(Decimal(1), ge=1, max_digits=5, decimal_places=2)
    bonus_points: int = Field(0, ge=0, le=1_000_000)
    starts_at: datetime
    ends_at: datetime
    rule: str = Field("", max_length=2000)
    active: bool = True


class CampaignPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    name_zh_hans: str | None = Field(None, max_length=120)
    multiplier: Decimal | None = Field(None, ge=1, max_digits=5, decimal_places=2)
    bonus_points: int | None = Field(None, ge=0, le=1_000_000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    rule: str | None = Field(None, max_length=2000)
    active: bool | None = None
