"""Offset pagination with a total, shared by API lists and pages."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def next_offset(self) -> int:
        return self.offset + self.limit

    @property
    def previous_offset(self) -> int:
        return max(0, self.offset - self.limit)

    @property
    def first_index(self) -> int:
        return self.offset + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return self.offset + len(self.items)


def paginate(queryset: QuerySet, *, limit: int, offset: int) -> Page:
    total = queryset.count()
    items = list(queryset[offset : offset + limit])
    return Page(items=items, total=total, limit=limit, offset=offset)
