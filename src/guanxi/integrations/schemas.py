from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema, OptionalId, Version

DeliveryStatus = Literal["pending", "retrying", "succeeded", "failed"]


class EndpointIn(InputSchema):
    url: str = Field(..., max_length=500, description="http(s) URL of the receiver")
    event_types: list[str] = Field(
        ..., min_length=1, max_length=50, description='Exact types ("order.placed"), prefixes ("customer.*") or "*"'
    )
    description: str = Field("", max_length=200)
    active: bool = True
    allow_private: bool = Field(False, description="Allow loopback and private-network addresses (trusted receivers)")


class EndpointPatch(InputSchema):
    version: Version
    url: str | None = Field(None, max_length=500)
    event_types: list[str] | None = Field(None, min_length=1, max_length=50)
    description: str | None = Field(None, max_length=200)
    active: bool | None = None
    allow_private: bool | None = None


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    active: bool
    allow_private: bool
    version: int
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointOut):
    secret: str = Field(..., description="whsec_...: verify signatures with it (Standard Webhooks)")


class SecretOut(Schema):
    secret: str
    previous_secret_expires_at: datetime | None


class DeliveryQuery(InputSchema):
    status: DeliveryStatus | None = None
    endpoint_id: OptionalId = None
    event_type: str = Field("", max_length=100, description="Exact type or prefix")
    limit: int = Field(25, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class DeliveryOut(Schema):
    id: int
    endpoint_id: int | None
    url: str
    event_type: str
    event_id: int | None
    message_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    redelivery_of_id: int | None


class DeliveryList(Schema):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int


class AttemptOut(Schema):
    number: int
    at: datetime
    request_headers: dict[str, str]
    request_body: str
    status_code: int | None
    error: str
    response_excerpt: str
    duration_ms: int


class DeliveryDetail(DeliveryOut):
    payload: Any
    response_excerpt: str
    attempt_log: list[AttemptOut]
