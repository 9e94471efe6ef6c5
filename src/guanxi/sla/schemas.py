from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema, OptionalId

PriorityKey = Literal["urgent", "high", "normal", "low"]
TierKey = Literal["", "A", "B", "C"]
Minutes = int


class PolicyOut(Schema):
    id: int
    name: str
    name_zh_hans: str
    priority: str
    tier: str
    first_response_minutes: int
    resolution_minutes: int
    calendar_id: int | None
    active: bool
    order: int


class PolicyIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    name_zh_hans: str = Field("", max_length=120)
    priority: PriorityKey
    tier: TierKey = ""
    first_response_minutes: int = Field(..., ge=1, le=525_600)
    resolution_minutes: int = Field(..., ge=1, le=525_600)
    calendar_id: OptionalId = None
    active: bool = True
    order: int = Field(100, ge=0, le=32_767)


class HolidayOut(Schema):
    id: int
    date: date
    name: str
    name_zh_hans: str
    kind: str


class HolidayIn(InputSchema):
    date: date
    name: str = Field(..., min_length=1, max_length=120)
    name_zh_hans: str = Field("", max_length=120)
    kind: Literal["holiday", "workday"] = "holiday"


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    hours: dict[str, list[list[str]]]
    is_default: bool
    holidays: list[HolidayOut]


class CalendarIn(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    time_zone: str | None = Field(None, max_length=64)
    hours: dict[str, list[list[str]]] | None = None
    is_default: bool | None = None


class TargetOut(Schema):
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    remaining_business_seconds: int | None


class ClockOut(Schema):
    ticket_id: int
    policy_id: int | None
    policy_name: str
    calendar_id: int
    started_at: datetime
    paused: bool
    paused_business_seconds: int
    stopped: bool
    breached: bool
    escalated_at: datetime | None
    first_response: TargetOut
    resolution: TargetOut


class BreachingQuery(InputSchema):
    within: int = Field(30, ge=1, le=60 * 24 * 30, description="business minutes")


class BreachingTicketOut(Schema):
    id: int
    number: str
    subject: str
    customer_id: int
    priority: str
    status: str
    queue_id: int
    assignee_id: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_breached: bool


class BreachingOut(Schema):
    within_minutes: int
    items: list[BreachingTicketOut]
