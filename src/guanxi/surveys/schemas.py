from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId, Version

Kind = Literal["after_ticket", "segment", "manual"]
QuestionKind = Literal["nps", "csat", "ces", "single", "multiple", "scale", "text"]


class ChoiceIn(InputSchema):
    value: str = Field(..., min_length=1, max_length=100)
    label: str = Field("", max_length=200)
    label_zh_hans: str = Field("", max_length=200)


class QuestionIn(InputSchema):
    kind: QuestionKind
    text: str = Field(..., min_length=1, max_length=500)
    text_zh_hans: str = Field("", max_length=500)
    required: bool = True
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=30)
    scale_min: int = Field(1, ge=0, le=10)
    scale_max: int = Field(5, ge=0, le=10)
    low_label: str = Field("", max_length=100)
    low_label_zh_hans: str = Field("", max_length=100)
    high_label: str = Field("", max_length=100)
    high_label_zh_hans: str = Field("", max_length=100)


class SurveyIn(InputSchema):
    key: str = Field(..., min_length=1, max_length=50)
    name: str = Field(..., min_length=1, max_length=200)
    name_zh_hans: str = Field("", max_length=200)
    intro: str = Field("", max_length=4000)
    intro_zh_hans: str = Field("", max_length=4000)
    kind: Kind = "manual"
    active: bool = False
    audience: str = Field("", max_length=2000, description="A rule in the rule language; empty: every customer")
    interval_days: int = Field(90, ge=1, le=3650)
    expiry_days: int = Field(14, ge=1, le=365)
    questions: list[QuestionIn] = Field(..., min_length=1, max_length=30)


class SurveyPatch(InputSchema):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=200)
    name_zh_hans: str | None = Field(None, max_length=200)
    intro: str | None = Field(None, max_length=4000)
    intro_zh_hans: str | None = Field(None, max_length=4000)
    kind: Kind | None = None
    active: bool | None = None
    audience: str | None = Field(None, max_length=2000)
    interval_days: int | None = Field(None, ge=1, le=3650)
    expiry_days: int | None = Field(None, ge=1, le=365)
    questions: list[QuestionIn] | None = Field(None, min_length=1, max_length=30)


class QuestionOut(Schema):
    id: int
    position: int
    kind: str
    text: str
    text_zh_hans: str
    required: bool
    choices: list[dict[str, Any]]
    scale_min: int
    scale_max: int


class SurveyOut(Schema):
    id: int
    key: str
    name: str
    name_zh_hans: str
    intro: str
    intro_zh_hans: str
    kind: str
    active: bool
    audience: str
    interval_days: int
    expiry_days: int
    version: int
    questions: list[QuestionOut]


class InvitationsIn(InputSchema):
    customer_ids: list[Id] = Field(..., min_length=1, max_length=500)


class InvitationOut(Schema):
    id: int
    customer_id: int
    link: str
    expires_at: datetime
    emailed: bool


class ResponseQuery(InputSchema):
    survey_id: OptionalId = None
    customer_id: OptionalId = None
    agent_id: OptionalId = None
    team_id: OptionalId = None
    since: date | None = None
    until: date | None = None
    detractors: bool = False
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class ResponseOut(Schema):
    id: int
    survey_id: int
    customer_id: int | None
    ticket_id: int | None
    agent_id: int | None
    team_id: int | None
    answered_at: datetime
    nps: int | None
    csat: int | None
    ces: int | None
    comment: str
    sentiment: float | None
    keywords: list[str]
    segment: str
    tier: str
    stage: str


class ResponseList(Schema):
    items: list[ResponseOut]
    total: int
    limit: int
    offset: int


class ResultsQuery(InputSchema):
    by: Literal["agent", "team", "segment", "tier", "stage", "month"] = "month"
    metric: Literal["nps", "csat", "ces"] = "nps"
    survey_id: OptionalId = None
    since: date | None = None
    until: date | None = None


class ResultRow(Schema):
    key: Any
    label: str
    value: float | None
    count: int
    responses: int


class ResultsOut(Schema):
    by: str
    metric: str
    overall: float | None
    rows: list[ResultRow]
