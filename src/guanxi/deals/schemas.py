from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId, Version

Kind = Literal["open", "won", "lost"]
Money = Field(..., ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)


class StageOut(Schema):
    id: int
    key: str
    name: str
    name_zh_hans: str
    order: int
    probability: int
    kind: Kind


class PipelineOut(Schema):
    id: int
    name: str
    name_zh_hans: str
    record_order_on_win: bool
    is_default: bool
    stages: list[StageOut]


class PipelineIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    name_zh_hans: str = Field("", max_length=120)
    record_order_on_win: bool = False
    is_default: bool = False


class PipelinePatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    name_zh_hans: str | None = Field(None, max_length=120)
    record_order_on_win: bool | None = None
    is_default: bool | None = None


class StageIn(InputSchema):
    key: str = Field(..., min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(..., min_length=1, max_length=120)
    name_zh_hans: str = Field("", max_length=120)
    order: int = Field(0, ge=0, le=32767)
    probability: int = Field(0, ge=0, le=100)


class StagePatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    name_zh_hans: str | None = Field(None, max_length=120)
    order: int | None = Field(None, ge=0, le=32767)
    probability: int | None = Field(None, ge=0, le=100)


class DealQuery(InputSchema):
    pipeline_id: OptionalId = None
    stage_id: OptionalId = None
    status: Kind | None = Field(None, description="open, won or lost")
    customer_id: OptionalId = None
    owner_id: OptionalId = Field(None, description="Managers and admins: one person's deals")
    team_id: OptionalId = Field(None, description="Managers and admins: a team's deals")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class DealIn(InputSchema):
    customer_id: Id
    title: str = Field(..., min_length=1, max_length=200)
    value: Decimal = Money
    currency: str = Field("", max_length=3, description="ISO 4217; default: the installation's currency")
    pipeline_id: OptionalId = Field(None, description="Default: the default pipeline")
    stage_id: OptionalId = Field(None, description="An open stage; default: the pipeline's first")
    probability: int | None = Field(None, ge=0, le=100, description="Default: the stage's probability")
    expected_close: date | None = None
    owner_id: OptionalId = Field(None, description="Managers (their teams) and admins; reps own their deals")


class DealPatch(InputSchema):
    version: Version
    title: str | None = Field(None, min_length=1, max_length=200)
    value: Decimal | None = Field(None, ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)
    currency: str | None = Field(None, min_length=3, max_length=3)
    probability: int | None = Field(None, ge=0, le=100)
    expected_close: date | None = None
    owner_id: OptionalId = None


class MoveIn(InputSchema):
    stage_id: Id
    version: Version
    lost_reason_id: OptionalId = Field(None, description="Required when moving to the lost stage")
    note: str = Field("", max_length=2000)


class WinIn(InputSchema):
    version: Version | None = None


class LoseIn(InputSchema):
    lost_reason_id: Id
    note: str = Field("", max_length=2000)
    version: Version | None = None


class ReopenIn(InputSchema):
    version: Version | None = None
    stage_id: OptionalId = None


class DealOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    pipeline_id: int
    stage_id: int
    stage: str
    status: Kind
    title: str
    value: Decimal
    currency: str
    probability: int
    weighted_value: Decimal
    expected_close: date | None
    owner_id: int
    team_id: int | None
    lost_reason: str | None
    lost_note: str
    won_at: datetime | None
    lost_at: datetime | None
    order_id: int | None
    stage_entered_at: datetime
    created_at: datetime
    version: int


class DealList(Schema):
    items: list[DealOut]
    total: int
    limit: int
    offset: int


class StageChangeOut(Schema):
    at: datetime
    from_stage: str | None
    to_stage: str
    actor_id: int | None


class DealDetailOut(DealOut):
    history: list[StageChangeOut]


class LostReasonOut(Schema):
    id: int
    key: str
    name: str
    name_zh_hans: str
    active: bool


class AnalyticsQuery(InputSchema):
    pipeline_id: OptionalId = None
    since: datetime | None = Field(None, description="Deals created (funnel) or closed (win rate ...) from")
    until: datetime | None = Field(None, description="... strictly before")
    currency: str = Field("", max_length=3)
    owner_id: OptionalId = None
    team_id: OptionalId = None


class FunnelStepOut(Schema):
    stage: str
    reached: int
    conversion: float | None


class LostReasonRow(Schema):
    key: str
    count: int
    share: float
    value: Decimal


class AnalyticsOut(Schema):
    pipeline_id: int
    currency: str
    funnel: list[FunnelStepOut]
    won: int
    lost: int
    win_rate: float | None
    won_value: Decimal
    cycle_mean_days: float | None
    cycle_median_days: float | None
    lost_reasons: list[LostReasonRow]


class ForecastRow(Schema):
    month: date
    id: int | None
    name: str
    deals: int
    value: Decimal
    weighted: Decimal


class ForecastOut(Schema):
    pipeline_id: int
    currency: str
    by_owner: list[ForecastRow]
    by_team: list[ForecastRow]
