from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId, Version
from guanxi.engagement.services import BODY_LIMIT, MAX_DURATION_SECONDS

ChannelName = Literal["phone", "email", "sms", "wechat", "social", "meeting", "visit", "chat", "note"]
DirectionName = Literal["inbound", "outbound", "internal"]


class InteractionIn(InputSchema):
    customer_id: Id
    channel: ChannelName
    direction: DirectionName = Field("outbound", description="A note is always internal.")
    subject: str = Field("", max_length=300)
    body: str = Field("", max_length=BODY_LIMIT, description="Write @username to notify a colleague.")
    outcome: str = Field("", max_length=300)
    duration_seconds: int | None = Field(None, ge=0, le=MAX_DURATION_SECONDS)
    occurred_at: datetime | None = Field(None, description="When it happened; default now. Not in the future.")
    follow_up_id: OptionalId = Field(None, description="The follow-up this contact completes.")


class InteractionPatch(InputSchema):
    version: Version
    channel: ChannelName | None = None
    direction: DirectionName | None = None
    subject: str | None = Field(None, max_length=300)
    body: str | None = Field(None, max_length=BODY_LIMIT)
    outcome: str | None = Field(None, max_length=300)
    duration_seconds: int | None = Field(None, ge=0, le=MAX_DURATION_SECONDS)
    occurred_at: datetime | None = None


class VersionQuery(InputSchema):
    version: Version


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    url: str = Field(description="Download (same authentication as the API).")


class InteractionOut(Schema):
    id: int
    customer_id: int
    channel: str
    direction: str
    subject: str
    body: str
    outcome: str
    duration_seconds: int | None
    occurred_at: datetime
    author_id: int | None
    author: str | None
    mentions: list[str]
    attachments: list[AttachmentOut]
    created_at: datetime
    version: int


class InteractionQuery(InputSchema):
    customer_id: OptionalId = None
    channel: ChannelName | None = None
    direction: DirectionName | None = None
    since: datetime | None = Field(None, description="occurred_at on or after")
    until: datetime | None = Field(None, description="occurred_at before")
    mine: bool = Field(False, description="Only the interactions I logged")
    limit: int = Field(25, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class InteractionList(Schema):
    items: list[InteractionOut]
    total: int
    limit: int
    offset: int


class TimelineQuery(InputSchema):
    customer_id: Id
    kinds: str = Field("", max_length=500, description="Comma-separated source keys; empty: all")
    before: datetime | None = Field(None, description="Only items strictly older (the previous page's next_before)")
    limit: int = Field(20, ge=1, le=100)


class TimelineItemOut(Schema):
    at: datetime
    kind: str
    title: str
    body: str
    actor: str
    link: str
    icon: str


class TimelineOut(Schema):
    items: list[TimelineItemOut]
    kinds: list[str]
    next_before: datetime | None = Field(description="Pass as ``before`` for the next page; null: no older items")
