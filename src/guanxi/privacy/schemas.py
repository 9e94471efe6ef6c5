from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema
from guanxi.privacy.models import Channel, Consent

ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
StatusName = Literal[tuple(Consent.Status.values)]  # type: ignore[valid-type]
SourceName = Literal[tuple(Consent.Source.values)]  # type: ignore[valid-type]


class ConsentIn(InputSchema):
    channel: ChannelName
    status: StatusName
    source: SourceName = "api"
    evidence: str = Field("", max_length=2000, description="What the customer said or signed, and where")


class ConsentOut(Schema):
    id: int
    channel: str
    status: str
    source: str
    evidence: str
    recorded_at: datetime
    recorded_by: str | None


class ChannelStateOut(Schema):
    channel: str
    may_contact: bool
    current: ConsentOut | None


class ConsentsOut(Schema):
    customer_id: int
    channels: list[ChannelStateOut]
    history: list[ConsentOut]


class EraseIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=2000, description="Why (the request, its date and channel)")


class ErasureOut(Schema):
    id: int
    customer_id: int
    masked_identifiers: list[str]
    reason: str
    counts: dict[str, int]
    erased_at: datetime
    erased_by: str


class ErasureList(Schema):
    items: list[ErasureOut]
    total: int
    limit: int
    offset: int
