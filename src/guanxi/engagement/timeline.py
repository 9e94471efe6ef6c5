"""The customer timeline: one list, newest first, merged from sources that apps register.

An app adds its records to every customer's timeline from its ``AppConfig.ready()``::

    from guanxi.engagement.timeline import TimelineItem, TimelineSource, register_source

    def stage_changes(user, customer, *, before, limit):
        rows = StageTransition.objects.filter(customer=customer)
        if before is not None:
            rows = rows.filter(at__lt=before)
        return [TimelineItem(at=t.at, kind="stages", title=...) for t in rows.order_by("-at", "-id")[:limit]]

    register_source(TimelineSource("stages", _("Stage changes"), stage_changes))

The contract of ``fetch(user, customer, *, before, limit)``:

- ``customer`` was already fetched through ``access.visible_customers(user)``; the source applies any further
  rule of its own (e.g. return ``[]`` for a role that may not see these records);
- return at most ``limit`` items strictly older than ``before`` (all when ``before`` is None), newest first;
- ``kind`` is the source's key (the timeline filters by it), ``at`` timezone-aware;
- ``title``/``body`` are already translated plain text (templates escape them); ``link`` is a path inside the
  app or ""; ``icon`` is a short symbol (an emoji) or "".

``merged`` asks each chosen source for ``limit + 1`` items, so it knows whether there is an older page; the
next page is ``before=<the last item's at>``. Items sharing that exact instant across a page boundary are
skipped by the strict ``before``; sources with many identical timestamps should add microseconds.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    title: str
    body: str = ""
    actor: str = ""
    link: str = ""
    icon: str = ""
    # Extra values the source's own template bits may use (e.g. an interaction's id and attachments).
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


Fetch = Callable[..., list[TimelineItem]]


@dataclass(frozen=True)
class TimelineSource:
    key: str
    label: Any  # a (lazy) translated string
    fetch: Fetch


_sources: dict[str, TimelineSource] = {}


def register_source(source: TimelineSource) -> None:
    """Add (or replace, by key) a timeline source; replacing keeps re-registration on autoreload harmless."""
    _sources[source.key] = source


def unregister_source(key: str) -> None:
    _sources.pop(key, None)


def sources() -> list[TimelineSource]:
    """The registered sources in registration order."""
    return list(_sources.values())


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    kinds: list[str]
    has_more: bool

    @property
    def next_before(self) -> datetime | None:
        return self.items[-1].at if self.has_more and self.items else None


def chosen_kinds(kinds: Iterable[str] | None) -> list[str]:
    """The registered keys among ``kinds`` (all sources when none is given), in registration order."""
    wanted = {k for k in (kinds or ()) if k}
    return [key for key in _sources if not wanted or key in wanted]


def merged(
    user, customer, *, kinds: Iterable[str] | None = None, before: datetime | None = None, limit: int = DEFAULT_LIMIT
) -> TimelinePage:
    """One page of ``customer``'s timeline for ``user``: the chosen sources merged newest first.

    The caller fetched ``customer`` through a selector (visible to ``user``)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    keys = chosen_kinds(kinds)
    items: list[TimelineItem] = []
    for key in keys:
        items.extend(_sources[key].fetch(user, customer, before=before, limit=limit + 1))
    items.sort(key=lambda item: item.at, reverse=True)
    return TimelinePage(items=items[:limit], kinds=keys, has_more=len(items) > limit)
