from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId, Version

Priority = Literal["urgent", "high", "normal", "low"]
Status = Literal["new", "open", "pending", "resolved", "closed"]
Channel = Literal["phone", "email", "web_form", "chat", "wechat", "in_person"]


class TicketQuery(InputSchema):
    queue: OptionalId = None
    status: Literal["new", "open", "pending", "resolved", "closed", "open_all"] | None = Field(
        None, description="A status, or open_all for new + open + pending"
    )
    priority: Priority | None = None
    assignee: str | None = Field(None, max_length=20, description="A user id, mine or unassigned")
    category: str | None = Field(None, max_length=50)
    customer: OptionalId = None
    q: str | None = Field(None, max_length=100, description="Ticket number (T-000123) or words of the subject")
    breached: bool | None = None
    sort: Literal["created", "-created", "priority", "due"] = "created"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class TicketIn(InputSchema):
    customer_id: OptionalId = Field(None, description="Or give the requester's name/e-mail/phone")
    requester_name: str = Field("", max_length=120)
    requester_email: str = Field("", max_length=254)
    requester_phone: str = Field("", max_length=40)
    subject: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20_000)
    channel: Channel = "phone"
    category: str = Field("question", max_length=50)
    priority: Priority | None = None
    queue_id: OptionalId = None
    assignee_id: OptionalId = None
    notify_requester: bool = False


class TicketPatch(InputSchema):
    version: Version
    subject: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, max_length=50)
    priority: Priority | None = None
    queue_id: OptionalId = None
    notify_requester: bool | None = None


class StatusIn(InputSchema):
    status: Status
    version: Version | None = None


class ReplyIn(InputSchema):
    body: str = Field(..., min_length=1, max_length=20_000)
    internal: bool = False


class AssignIn(InputSchema):
    assignee_id: OptionalId = Field(None, description="None takes the ticket back to the queue")
    version: Version | None = None


class MergeIn(InputSchema):
    target_id: Id


class TicketOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str
    subject: str
    description: str
    channel: str
    category: str
    priority: str
    status: str
    queue_id: int
    team_id: int | None
    assignee_id: int | None
    requester_name: str
    requester_email: str
    requester_phone: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    merged_into_id: int | None
    notify_requester: bool
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_breached: bool
    version: int


class TicketList(Schema):
    items: list[TicketOut]
    total: int
    limit: int
    offset: int


class MessageOut(Schema):
    id: int
    kind: str
    author_id: int | None
    body: str
    created_at: datetime
    attachments: list[dict]


class CategoryOut(Schema):
    key: str
    name: str
    name_zh_hans: str
    active: bool
    order: int


class QueueOut(Schema):
    id: int
    name: str
    name_zh_hans: str
    team_id: int | None
    assignment: str
    active: bool
