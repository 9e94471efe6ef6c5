from datetime import datetime

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    team_id: int | None


class TokenCreate(InputSchema):
    name: str = Field(..., min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(..., description="Shown only in this response; store it now")
