from datetime import datetime

from ninja import Field, Schema

from guanxi.core.schemas import InputSchema


class NotificationOut(Schema):
    id: int
    kind: str
    message: str
    link: str
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_message(obj) -> str:
        # In the reader's language (Accept-Language or the session's), whatever language the sender used.
        return obj.text


class NotificationList(Schema):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class NotificationQuery(InputSchema):
    unread: bool = False
    limit: int = Field(25, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class ReadAllOut(Schema):
    marked: int
