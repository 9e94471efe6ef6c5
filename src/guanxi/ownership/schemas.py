from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, OptionalId, Version

Assignment = Literal["none", "round_robin", "least_loaded", "territory"]
TransferStatus = Literal["pending", "approved", "rejected", "cancelled"]


class PoolQuery(InputSchema):
    q: str = Field("", max_length=100, description="Part of the name or company")
    region: str = Field("", max_length=100)
    industry: str = Field("", max_length=100)
    team_id: OptionalId = None
    limit: int = Field(25, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class PoolCustomerOut(Schema):
    """The pool summary: the full profile opens once you claim the customer."""

    id: int
    display_name: str
    company: str
    region: str
    industry: str
    team_id: int
    team_name: str
    created_at: datetime
    last_order_at: datetime | None


class StandingOut(Schema):
    held: int
    holding_cap: int | None
    claimed_today: int
    daily_claim_quota: int | None


class PoolList(Schema):
    items: list[PoolCustomerOut]
    total: int
    limit: int
    offset: int
    standing: StandingOut


class OwnerOut(Schema):
    customer_id: int
    owner_id: int | None
    team_id: int | None
    version: int


class NoteIn(InputSchema):
    note: str = Field("", max_length=300)


class AssignIn(InputSchema):
    user_id: Id
    note: str = Field("", max_length=300)


class HistoryOut(Schema):
    id: int
    from_user_id: int | None
    to_user_id: int | None
    team_id: int | None
    reason: str
    note: str
    actor_id: int | None
    at: datetime


class TransferIn(InputSchema):
    to_user_id: Id
    reason: str = Field("", max_length=500)


class DecisionIn(InputSchema):
    note: str = Field("", max_length=500)


class TransferOut(Schema):
    id: int
    customer_id: int
    from_user_id: int | None
    to_user_id: int
    requested_by_id: int | None
    reason: str
    status: str
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class TransferQuery(InputSchema):
    status: TransferStatus | None = None
    limit: int = Field(25, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class TransferList(Schema):
    items: list[TransferOut]
    total: int
    limit: int
    offset: int


class Territory(InputSchema):
    region: str = Field("", max_length=100)
    industry: str = Field("", max_length=100)
    user_id: Id


class TerritoryOut(Schema):
    region: str
    industry: str
    user_id: int


class RuleOut(Schema):
    team_id: int
    assignment: str
    territories: list[TerritoryOut]
    daily_claim_quota: int | None
    holding_cap: int | None
    release_after_days: int | None
    warning_days: int
    protection_days: int
    version: int


class RuleIn(InputSchema):
    """Only the fields sent change. ``version`` is the one you read (1 for a team without saved rules)."""

    version: Version
    assignment: Assignment | None = None
    territories: list[Territory] | None = Field(None, max_length=500)
    daily_claim_quota: int | None = Field(None, ge=0, le=100_000, description="null: no limit")
    holding_cap: int | None = Field(None, ge=0, le=100_000, description="null: no cap")
    release_after_days: int | None = Field(None, ge=1, le=100_000, description="null: never release")
    warning_days: int | None = Field(None, ge=0, le=100_000)
    protection_days: int | None = Field(None, ge=0, le=100_000)
