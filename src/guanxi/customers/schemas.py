from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from guanxi.core.schemas import Id, InputSchema, Version
from guanxi.customers.models import Customer

Kind = Literal["person", "company"]
Source = Literal[tuple(Customer.Source.values)]  # type: ignore[valid-type]


class CustomerCreate(InputSchema):
    kind: Kind = "person"
    display_name: str = Field("", max_length=200, description="Shown everywhere; composed from the names if empty")
    given_name: str = Field("", max_length=100)
    family_name: str = Field("", max_length=100)
    emails: list[str] = Field(default_factory=list, max_length=20)
    phones: list[str] = Field(default_factory=list, max_length=20, description="Any common format; stored as E.164")
    wechat_id: str = Field("", max_length=100)
    company: str = Field("", max_length=200)
    industry: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    address: str = Field("", max_length=2000)
    source: Source = "api"
    tags: list[str] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] = Field(default_factory=dict, description="Keys must be defined by an admin")
    profiling_opt_out: bool = Field(False, description="Exclude this customer from value, churn and segment scoring")
    owner_id: Id | None = Field(None, description="Managers and admins only; reps own what they create")
    team_id: Id | None = None
    external_ids: list[str] = Field(
        default_factory=list, max_length=20, description='Ids in other systems, each "system:id" (e.g. "shopify:42")'
    )


class CustomerUpdate(InputSchema):
    """Only the fields sent are changed. ``version`` must be the one you read."""

    version: Version
    kind: Kind | None = None
    display_name: str | None = Field(None, max_length=200)
    given_name: str | None = Field(None, max_length=100)
    family_name: str | None = Field(None, max_length=100)
    emails: list[str] | None = Field(None, max_length=20)
    phones: list[str] | None = Field(None, max_length=20)
    wechat_id: str | None = Field(None, max_length=100)
    company: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=2000)
    source: Source | None = None
    tags: list[str] | None = Field(None, max_length=50)
    custom_fields: dict[str, Any] | None = None
    profiling_opt_out: bool | None = None
    owner_id: Id | None = None
    team_id: Id | None = None
    external_ids: list[str] | None = Field(None, max_length=20, description="Replaces the external ids")


class CustomerSummaryOut(Schema):
    """What analysts see: no name, contact or address."""

    id: int
    kind: str
    industry: str
    region: str
    source: str
    tags: list[str]
    owner_id: int | None
    team_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerOut(CustomerSummaryOut):
    display_name: str
    given_name: str
    family_name: str
    emails: list[str]
    phones: list[str]
    wechat_id: str
    company: str
    address: str
    custom_fields: dict[str, Any]
    profiling_opt_out: bool


class CustomerList(Schema):
    items: list[CustomerOut | CustomerSummaryOut]
    total: int
    limit: int
    offset: int


class CustomerQuery(InputSchema):
    q: str = Field("", max_length=100, description="Substring of name, e-mail, phone, company or WeChat ID")
    owner_id: Id | None = None
    team_id: Id | None = None
    tag: str = Field("", max_length=50)
    kind: Kind | Literal[""] = ""
    created_after: datetime | None = None
    created_before: datetime | None = None
    sort: Literal["created", "-created", "name", "-name", "updated", "-updated"] = "-created"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class ShareIn(InputSchema):
    user_id: Id


class ShareOut(Schema):
    customer_id: int
    user_id: int


class CustomerIngest(CustomerCreate):
    """A customer record from another system: attached to the customer its contacts identify, or created."""


class IngestOut(Schema):
    created: bool
    customer: CustomerOut


class CollisionOut(Schema):
    field: str = Field(description="phone, email, wechat_id or name")
    owner: str = Field(description="The owner's name, or the team pool")
    customer_id: int | None = Field(None, description="Only when you can see that customer")
    display_name: str = Field("", description="Only when you can see that customer")


class LookupOut(Schema):
    exists: bool
    matches: list[CollisionOut]


class LookupQuery(InputSchema):
    phone: str = Field("", max_length=50)
    email: str = Field("", max_length=254)
    name: str = Field("", max_length=200)
    wechat: str = Field("", max_length=100)


class IdentityOut(Schema):
    kind: str
    value: str
    created_at: datetime


class CandidateCustomer(Schema):
    id: int
    display_name: str
    owner: str


class CandidateOut(Schema):
    id: int
    probability: float
    matched_fields: list[str]
    source: str
    status: str
    customer_a: CandidateCustomer
    customer_b: CandidateCustomer


class CandidateList(Schema):
    items: list[CandidateOut]
    total: int
    limit: int
    offset: int


class MergeIn(InputSchema):
    survivor_id: Id
    loser_id: Id
    survivor_version: Version
    loser_version: Version
    field_choices: dict[str, Literal["survivor", "loser", "union", "either"]] = Field(
        default_factory=dict,
        description="Per field: survivor or loser (tags and custom_fields also union; profiling_opt_out either). "
        "Unset: the survivor's value, or the loser's where the survivor has none; lists united.",
    )


class MergeOut(Schema):
    id: int
    survivor_id: int
    loser_id: int
    field_choices: dict[str, str]
    moved: dict[str, int] = Field(description="Rows moved onto the survivor, per model")
    created_at: datetime
    undone_at: datetime | None
