from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema, Version

RunStatus = Literal["matched", "skipped", "loop_guarded", "failed", "dry_run"]


class RuleIn(InputSchema):
    name: str = Field(..., max_length=200)
    name_zh_hans: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    trigger: str = Field(..., max_length=64, description="An event type (GET /triggers) or schedule.daily")
    condition: str = Field("", max_length=2000, description="Rule language; empty: every customer")
    actions: list[dict[str, Any]] = Field(..., description='[{"type": "create_follow_up", "title": ...}, ...]')
    active: bool = True
    position: int = Field(100, ge=0, le=10_000)


class RuleUpdate(InputSchema):
    version: Version
    name: str | None = Field(None, max_length=200)
    name_zh_hans: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    trigger: str | None = Field(None, max_length=64)
    condition: str | None = Field(None, max_length=2000)
    actions: list[dict[str, Any]] | None = None
    active: bool | None = None
    position: int | None = Field(None, ge=0, le=10_000)


class RuleOut(Schema):
    id: int
    name: str
    name_zh_hans: str
    description: str
    trigger: str
    condition: str
    actions: list[dict[str, Any]]
    active: bool
    playbook: str
    position: int
    version: int
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class RuleListItem(RuleOut):
    last_run_at: datetime | None
    matched_count: int
    skipped_count: int
    failed_count: int
    guarded_count: int


class RuleList(Schema):
    items: list[RuleListItem]
    total: int
    limit: int
    offset: int


class ListQuery(InputSchema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class RunQuery(ListQuery):
    status: RunStatus | None = None


class RunOut(Schema):
    id: int
    rule_id: int
    event_id: int | None
    event_type: str
    customer_id: int | None
    customer_name: str | None = Field(None, description="Only for customers you may see")
    status: str
    detail: dict[str, Any]
    at: datetime


class RunList(Schema):
    items: list[RunOut]
    total: int
    limit: int
    offset: int


class DryRunIn(InputSchema):
    condition: str = Field("", max_length=2000)


class DryRunCustomer(Schema):
    id: int
    display_name: str
    owner_id: int | None


class DryRunOut(Schema):
    total: int
    customers: list[DryRunCustomer]


class TemplateIn(InputSchema):
    key: str = Field(..., max_length=64)
    name: str = Field(..., max_length=200)
    subject_en: str = Field(..., max_length=200)
    body_en: str = Field(..., max_length=20_000)
    subject_zh_hans: str = Field("", max_length=200)
    body_zh_hans: str = Field("", max_length=20_000)


class TemplateUpdate(InputSchema):
    version: Version
    key: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    subject_en: str | None = Field(None, max_length=200)
    body_en: str | None = Field(None, max_length=20_000)
    subject_zh_hans: str | None = Field(None, max_length=200)
    body_zh_hans: str | None = Field(None, max_length=20_000)


class TemplateOut(Schema):
    id: int
    key: str
    name: str
    subject_en: str
    body_en: str
    subject_zh_hans: str
    body_zh_hans: str
    version: int
    updated_at: datetime


class OptionOut(Schema):
    key: str
    label: str
    help: str = ""
    example: dict[str, Any] = {}


class HelpOut(Schema):
    triggers: list[OptionOut]
    actions: list[OptionOut]
    fields: list[OptionOut]
