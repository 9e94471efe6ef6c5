from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema
from guanxi.segments.models import AbcTier, Segment, ValueTier

SegmentKey = Literal[tuple(Segment.values)]  # type: ignore[valid-type]
AbcKey = Literal[tuple(AbcTier.values)]  # type: ignore[valid-type]
ValueKey = Literal[tuple(ValueTier.values)]  # type: ignore[valid-type]


class ScoreOut(Schema):
    customer_id: int
    as_of: date
    scored_at: datetime
    segment: str
    abc_tier: str
    value_tier: str
    rfm_r: int
    rfm_f: int
    rfm_m: int
    order_count: int
    revenue: Decimal
    frequency: int
    days_since_last: float
    p_alive: float = Field(..., description="Probability the customer is still active (BG/NBD)")
    expected_purchases_90d: float
    expected_spend: float
    clv: Decimal = Field(..., description="Discounted value of the next 12 months")
    churn_risk: float | None
    churn_reasons: list


class ScoreList(Schema):
    items: list[ScoreOut]
    total: int
    limit: int
    offset: int


class ScoreQuery(InputSchema):
    segment: SegmentKey | None = None
    abc_tier: AbcKey | None = None
    value_tier: ValueKey | None = None
    max_p_alive: float | None = Field(None, ge=0, le=1)
    sort: Literal["-clv", "clv", "p_alive", "-p_alive"] = "-clv"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class RunOut(Schema):
    id: int
    as_of: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    customers_scored: int
    customers_skipped: int
    parameters: dict
    segment_counts: dict
    tier_counts: dict
