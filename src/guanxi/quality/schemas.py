from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId


class PeriodQuery(InputSchema):
    since: date | None = Field(None, description="First day (business time zone); default: 30 days before until")
    until: date | None = Field(None, description="Last day, included; default: today")


class BottleneckQuery(PeriodQuery):
    limit: int = Field(10, ge=1, le=50)


class ScorecardQuery(PeriodQuery):
    by: Literal["agent", "team"] = "agent"


class StatusOut(Schema):
    status: str
    label: str
    cases: int
    median_hours: float | None
    mean_hours: float | None
    p90_hours: float | None
    total_hours: float | None


class NodeOut(Schema):
    status: str
    label: str
    visits: int
    cases: int
    total_hours: float | None
    median_hours: float | None


class EdgeOut(Schema):
    source: str
    target: str
    count: int
    median_hours: float | None


class ThroughputOut(Schema):
    day: date
    arrivals: int
    resolved: int


class AgeingOut(Schema):
    bucket: str
    status: str
    cases: int


class BottleneckOut(Schema):
    status: str
    dimension: str
    value: str
    value_label: str
    cases: int
    total_hours: float | None
    share: float | None
    median_hours: float | None
    rest_median_hours: float | None
    status_median_hours: float | None
    ratio: float | None
    excess_hours: float | None
    explanation: str


class ProcessOut(Schema):
    since: date
    until: date
    as_of: datetime
    cases: int
    waiting_hours: float | None
    working_hours: float | None
    median_share_waiting: float | None
    reopened_cases: int
    reopen_loops: int
    statuses: list[StatusOut]
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    throughput: list[ThroughputOut]
    ageing: list[AgeingOut]
    bottlenecks: list[BottleneckOut]


class BottleneckList(Schema):
    since: date
    until: date
    items: list[BottleneckOut]


class ScorecardOut(Schema):
    id: int
    name: str
    team: str = ""
    handled: int
    resolved: int
    first_response_hours: float | None
    resolution_hours: float | None
    sla_attainment: float | None
    reopen_rate: float | None
    csat: float | None
    csat_answers: int


class ScorecardList(Schema):
    since: date
    until: date
    by: str
    items: list[ScorecardOut]


class TrainingIn(InputSchema):
    agent_id: Id
    topic: str = Field(..., min_length=1, max_length=200)
    held_on: date
    category: str | None = Field(None, description="Ticket category key the training was about")
    trainer_id: OptionalId = None
    notes: str = Field("", max_length=4000)


class TrainingQuery(InputSchema):
    agent_id: OptionalId = None


class KpiOut(Schema):
    resolved: int
    resolution_hours: float | None
    csat: float | None
    csat_answers: int


class TrainingOut(Schema):
    id: int
    agent_id: int
    agent_name: str
    topic: str
    category: str | None
    held_on: date
    trainer_id: int | None
    notes: str
    created_at: datetime
    before: KpiOut | None = None
    after: KpiOut | None = None
