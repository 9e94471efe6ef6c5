"""Where a change comes from (the request's IP, or a named system job), for the audit trail.

Set by ``RequestContextMiddleware`` for web and API requests and by ``system_context`` for CLI commands and
jobs. Services read it only through ``core.events``; they never need the request object.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip_address: str | None = None
    via: str = "web"


_origin: ContextVar[Origin] = ContextVar("guanxi_origin", default=Origin(via="system"))  # noqa: B039 - frozen


def current_origin() -> Origin:
    return _origin.get()


@contextmanager
def origin(value: Origin) -> Iterator[None]:
    token = _origin.set(value)
    try:
        yield
    finally:
        _origin.reset(token)


def system_context(via: str = "cli"):
    return origin(Origin(ip_address=None, via=via))
