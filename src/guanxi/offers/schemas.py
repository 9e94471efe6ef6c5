from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId, Version

Kind = Literal["percent_off", "amount_off", "free_item", "bonus_points"]
CouponStatus = Literal["issued", "redeemed", "expired", "void"]


class OfferIn(InputSchema):
    key: str = Field(..., min_length=1, max_length=50)
    name: str = Field(..., min_length=1, max_length=120)
    name_zh_hans: str = Field("", max_length=120)
    description: str = Field("", max_length=2000)
    kind: Kind
    value: Decimal = Field(Decimal("0"), ge=0, le=1_000_000)
    currency: str = Field("CNY", min_length=3, max_length=3)
    free_item_sku: str = Field("", max_length=64)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    target_rule: str = Field("", max_length=2000, description='Rule language, e.g. stage == "churned"')
    per_customer_limit: int = Field(1, ge=0, le=1000, description="0: no limit")
    coupon_valid_days: int = Field(30, ge=1, le=3660)
    control_share: Decimal = Field(Decimal("0.10"), ge=0, le=Decimal("0.5"))
    active: bool = True


class OfferPatch(InputSchema):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=120)
    name_zh_hans: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=2000)
    kind: Kind | None = None
    value: Decimal | None = Field(None, ge=0, le=1_000_000)
    currency: str | None = Field(None, min_length=3, max_length=3)
    free_item_sku: str | None = Field(None, max_length=64)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    target_rule: str | None = Field(None, max_length=2000)
    per_customer_limit: int | None = Field(None, ge=0, le=1000)
    coupon_valid_days: int | None = Field(None, ge=1, le=3660)
    control_share: Decimal | None = Field(None, ge=0, le=Decimal("0.5"))
    active: bool | None = None


class OfferOut(Schema):
    id: int
    key: str
    name: str
    name_zh_hans: str
    description: str
    kind: str
    value: Decimal
    currency: str
    free_item_sku: str
    valid_from: datetime | None
    valid_until: datetime | None
    target_rule: str
    per_customer_limit: int
    coupon_valid_days: int
    control_share: Decimal
    active: bool
    version: int


class IssueIn(InputSchema):
    offer_id: Id
    customer_id: Id
    source_key: str = Field(
        "", max_length=150, description="Idempotency key: the same key returns the same coupon. Empty: always new."
    )


class RedeemIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=30)
    order_id: OptionalId = Field(None, description="The order the coupon was used on (same customer)")
    customer_id: OptionalId = Field(None, description="If given, the code must belong to this customer")


class CouponQuery(InputSchema):
    customer_id: OptionalId = None
    offer_id: OptionalId = None
    status: CouponStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class CouponOut(Schema):
    id: int
    code: str
    offer_id: int
    offer_key: str
    customer_id: int
    status: str
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    order_id: int | None
    campaign_id: int | None


class CouponList(Schema):
    items: list[CouponOut]
    total: int
    limit: int
    offset: int


class CampaignIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    offer_id: Id
    audience_rule: str = Field("", max_length=2000)
    control_share: Decimal | None = Field(
        None, ge=Decimal("0.01"), le=Decimal("0.5"), description="Default: the offer's"
    )
    measure_days: int = Field(56, ge=7, le=365)
    seed: int | None = Field(None, ge=0, le=2**62, description="Default: random (stored)")
    email_template: str = Field("", max_length=64, description="Key of an automation e-mail template (optional)")
    follow_up_title: str = Field("", max_length=200, description="A follow-up for each treated customer's owner")


class CampaignPatch(InputSchema):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=200)
    audience_rule: str | None = Field(None, max_length=2000)
    control_share: Decimal | None = Field(None, ge=Decimal("0.01"), le=Decimal("0.5"))
    measure_days: int | None = Field(None, ge=7, le=365)
    email_template: str | None = Field(None, max_length=64)
    follow_up_title: str | None = Field(None, max_length=200)


class LaunchIn(InputSchema):
    version: Version | None = None


class CampaignOut(Schema):
    id: int
    name: str
    offer_id: int
    kind: str
    audience_rule: str
    control_share: Decimal
    measure_days: int
    seed: int
    status: str
    launched_at: datetime | None
    treated: int
    control: int
    version: int


class GroupOut(Schema):
    size: int
    returned: int
    return_rate: float | None
    return_rate_low: float | None
    return_rate_high: float | None
    revenue: float
    revenue_per_member: float | None


class DifferenceOut(Schema):
    estimate: float
    low: float
    high: float
    p_value: float | None


class CurveOut(Schema):
    days: list[int]
    treated: list[float]
    control: list[float]


class ReportOut(Schema):
    campaign_id: int
    level: float
    measure_days: int
    currency: str
    treated: GroupOut
    control: GroupOut
    return_rate_difference: DifferenceOut | None = Field(None, description="Treated - control, as proportions")
    revenue_per_member_difference: DifferenceOut | None = Field(None, description="Welch's t interval")
    direction: str = Field(..., description="more, fewer, unclear, too_small or none")
    verdict: str
    detail: str
    complete: bool
    measured_until: datetime | None
    coupons_redeemed: int
    curve: CurveOut
