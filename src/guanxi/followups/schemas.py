from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId, Version

Priority = Literal["normal", "urgent"]
Status = Literal["open", "done", "cancelled"]


class FollowUpQuery(InputSchema):
    status: Status | None = None
    due_before: date | None = Field(None, description="Due strictly before this day")
    due_after: date | None = Field(None, description="Due on or after this day")
    customer_id: OptionalId = None
    team_id: OptionalId = Field(None, description="Managers and admins: the follow-ups of a team they lead")
    assignee_id: OptionalId = Field(None, description="Managers and admins: one person's follow-ups")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class FollowUpIn(InputSchema):
    customer_id: Id
    title: str = Field(..., min_length=1, max_length=200)
    due_on: date
    assignee_id: OptionalId = Field(None, description="Default: the customer's owner")
    priority: Priority = "normal"
    note: str = Field("", max_length=2000)


class FollowUpPatch(InputSchema):
    version: Version
    title: str | None = Field(None, min_length=1, max_length=200)
    due_on: date | None = None
    priority: Priority | None = None
    note: str | None = Field(None, max_length=2000)
    assignee_id: OptionalId = Field(None, description="Managers of the customer's team and admins only")


class CompleteIn(InputSchema):
    interaction_id: OptionalId = None
    note: str = Field("", max_length=2000)


class CancelIn(InputSchema):
    note: str = Field("", max_length=2000)


class FollowUpOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    assignee_id: int
    title: str
    note: str
    due_on: date
    priority: Priority
    status: Status
    source: str
    policy: str | None
    rule_id: int | None
    completed_at: datetime | None
    completed_by_id: int | None
    completion_note: str
    interaction_id: int | None
    created_at: datetime
    version: int


class FollowUpList(Schema):
    items: list[FollowUpOut]
    total: int
    limit: int
    offset: int


class SilentQuery(InputSchema):
    limit: int = Field(25, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class SilentOut(Schema):
    customer_id: int
    display_name: str
    owner_id: int | None
    clv: Decimal | None
    usual_interval_days: float
    silent_days: float
    last_order_at: datetime | None
    last_interaction_at: datetime | None


class SilentList(Schema):
    items: list[SilentOut]
    total: int
    limit: int
    offset: int
