from datetime import UTC, datetime
from typing import Annotated, Any

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# Database ids and versions as API types: bounded so that an absurd number is a 422, not a driver overflow.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Field(None, ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _storable_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Store instants in UTC: Python accepts offsets up to 24 h, PostgreSQL only up to 15:59.
        if value.tzinfo is None:
            value = timezone.make_aware(value)
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("The date is out of range.") from exc
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Text cannot contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("Text must be valid Unicode (no lone surrogates).") from exc
    elif isinstance(value, list | tuple):
        return type(value)(_storable_value(item) for item in value)
    elif isinstance(value, dict):
        return {_storable_value(key): _storable_value(item) for key, item in value.items()}
    return value


class InputSchema(Schema):
    """Base of every request body and query schema: unknown fields are refused, text that no database can
    store (NUL characters, lone surrogates) is a 422 rather than a driver error, and date-times become UTC
    (naive ones are read in the server's time zone)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable_value(value)
