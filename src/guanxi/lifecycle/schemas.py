from datetime import datetime
from typing import Any

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema, Version


class DefinitionOut(Schema):
    id: int
    key: str
    name: str
    name_zh_hans: str
    rule: str
    position: int
    playbook: str
    active: bool
    version: int


class DefinitionCreate(InputSchema):
    key: str = Field(..., min_length=1, max_length=32, description="lower-case letters, digits and underscores")
    name: str = Field(..., min_length=1, max_length=100)
    name_zh_hans: str = Field("", max_length=100)
    rule: str = Field(..., min_length=1, max_length=4000, description="a condition in the rule language")
    position: int = Field(0, ge=0, le=32767, description="lower first: the first matching rule wins")
    playbook: str = Field("", max_length=10000)
    active: bool = True


class DefinitionUpdate(InputSchema):
    """Only the fields sent change; ``version`` is the one you read."""

    version: Version
    name: str | None = Field(None, min_length=1, max_length=100)
    name_zh_hans: str | None = Field(None, max_length=100)
    rule: str | None = Field(None, min_length=1, max_length=4000)
    position: int | None = Field(None, ge=0, le=32767)
    playbook: str | None = Field(None, max_length=10000)
    active: bool | None = None


class TransitionOut(Schema):
    view: str
    from_stage: str
    to_stage: str
    at: datetime
    reason: str
    facts: dict[str, Any] | None
    source: str
    event_id: int | None


class CustomerLifecycleOut(Schema):
    customer_id: int
    stage: str | None
    since: datetime | None
    funnel_stage: str | None
    funnel_since: datetime | None
    playbook: str
    history: list[TransitionOut]


class DistributionRow(Schema):
    stage: str
    label: str
    customers: int


class FlowOut(Schema):
    since: datetime
    until: datetime
    flows: list[dict[str, Any]]


class FieldOut(Schema):
    name: str
    type: str
    label: str
    examples: list[Any]
