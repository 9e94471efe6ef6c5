"""The wire: the SSRF guard, Standard Webhooks signing, and one HTTP POST to an address we checked.

DNS rebinding: a host name could resolve to a public address when we check it and to 127.0.0.1 when the HTTP
client resolves it again. We therefore resolve once, check every address, and connect to the first checked
address ourselves (the URL's host is replaced by that IP; the ``Host`` header, TLS SNI and certificate
verification still use the original name). Environment proxies are ignored for the same reason.
"""

import ipaddress
import json
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from standardwebhooks import Webhook
from urllib3.exceptions import NewConnectionError

from guanxi.integrations.errors import DestinationRefused

DEFAULT_TIMEOUT = (5.0, 10.0)  # seconds: connect, read
EXCERPT_CHARS = 500
USER_AGENT = "Guanxi-Webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def forbidden_reason(address: IPAddress) -> str | None:
    """Why webhooks may not reach ``address`` (None: a public address). IPv4-mapped IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for flag in ("is_loopback", "is_private", "is_link_local", "is_reserved", "is_multicast", "is_unspecified"):
        if getattr(address, flag):
            return flag.removeprefix("is_").replace("_", "-")
    if not address.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT), which is neither private nor global
        return "non-global"
    return None


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...] = field(default=())


def _split(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(_("The URL is not valid."), url=url) from exc
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise DestinationRefused(_("Only http and https URLs can receive webhooks."), url=url)
    host = parts.hostname or ""
    if not host:
        raise DestinationRefused(_("The URL has no host."), url=url)
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve_destination(url: str, *, allow_private: bool = False) -> Destination:
    """Check ``url`` and return the addresses it resolves to; raise DestinationRefused if it may not be reached.

    Every address the host resolves to must be public unless ``allow_private`` or the setting
    ``GUANXI_WEBHOOK_ALLOW_PRIVATE`` is on.
    """
    scheme, host, port = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise DestinationRefused(
            _("The host %(host)s could not be resolved.") % {"host": host}, url=url, host=host
        ) from exc
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone index
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise DestinationRefused(_("The host %(host)s could not be resolved.") % {"host": host}, url=url, host=host)
    if not (allow_private or getattr(settings, "GUANXI_WEBHOOK_ALLOW_PRIVATE", False)):
        for text in addresses:
            reason = forbidden_reason(ipaddress.ip_address(text))
            if reason:
                raise DestinationRefused(
                    _(
                        "%(host)s resolves to %(address)s, a %(kind)s address: webhooks may not reach it unless "
                        "an admin allows private addresses for this endpoint."
                    )
                    % {"host": host, "address": text, "kind": reason},
                    url=url,
                    host=host,
                    address=text,
                    reason=reason,
                )
    return Destination(url=url, scheme=scheme, host=host, port=port, addresses=tuple(addresses))


def check_destination(url: str, *, allow_private: bool = False) -> None:
    """The SSRF guard: raise DestinationRefused unless ``url`` is http(s) and resolves only to allowed addresses."""
    resolve_destination(url, allow_private=allow_private)


# ------------------------------------------------------------------------------------------------ signing


def build_body(event_type: str, timestamp: datetime, data: Any) -> str:
    """The message body: ``{"type", "timestamp", "data"}`` as compact JSON (signed byte for byte)."""
    return json.dumps(
        {"type": event_type, "timestamp": timestamp.isoformat().replace("+00:00", "Z"), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )


def sign_headers(*, secrets: list[str], message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """Standard Webhooks headers; one ``v1,`` signature per secret (two while a rotated secret is still valid)."""
    signatures = " ".join(Webhook(secret).sign(message_id, sent_at, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


# ------------------------------------------------------------------------------------------------ sending


class _PinnedAdapter(HTTPAdapter):
    """Connects to the IP in the URL while TLS checks the certificate against the original host name."""

    def __init__(self, host: str) -> None:
        self._host = host
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params.get("scheme") == "https":
            pool_kwargs["server_hostname"] = self._host
            pool_kwargs["assert_hostname"] = self._host
        return host_params, pool_kwargs


@dataclass
class Outcome:
    status_code: int | None = None
    error: str = ""
    response_excerpt: str = ""
    duration_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def _pinned_url(destination: Destination, address: str) -> str:
    parts = urlsplit(destination.url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{destination.port}"
    return urlunsplit((destination.scheme, netloc, parts.path or "/", parts.query, ""))


def _host_header(destination: Destination) -> str:
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    default = 443 if destination.scheme == "https" else 80
    return host if destination.port == default else f"{host}:{destination.port}"


def _connect_failed(exc: requests.RequestException) -> bool:
    """True when no connection was made, so nothing was sent and the next checked address may be tried."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def post(destination: Destination, *, headers: dict[str, str], body: str) -> Outcome:
    """POST ``body`` to the checked addresses of ``destination`` in order, moving on only when a connection
    could not be made (nothing was sent). Never follows redirects (a 3xx fails); a network error or timeout is
    an outcome, not an exception. ``GUANXI_WEBHOOK_CA_BUNDLE`` names extra CA certificates (a private CA)."""
    timeout = tuple(getattr(settings, "GUANXI_WEBHOOK_TIMEOUT", DEFAULT_TIMEOUT))
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: we connect to the address we checked
    session.verify = getattr(settings, "GUANXI_WEBHOOK_CA_BUNDLE", None) or True
    session.mount("http://", _PinnedAdapter(destination.host))
    session.mount("https://", _PinnedAdapter(destination.host))
    started = time.monotonic()
    outcome = Outcome()
    try:
        for index, address in enumerate(destination.addresses):
            try:
                response = session.post(
                    _pinned_url(destination, address),
                    data=body.encode("utf-8"),
                    headers={**headers, "Host": _host_header(destination)},
                    timeout=timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.RequestException as exc:
                if index + 1 < len(destination.addresses) and _connect_failed(exc):
                    continue
                raise
            _read_answer(response, outcome)
            break
    except requests.Timeout:
        outcome.error = _("Timed out (connect %(connect)s s, read %(read)s s).") % {
            "connect": timeout[0],
            "read": timeout[1],
        }
    except requests.RequestException as exc:
        outcome.error = (_("Connection failed: %(error)s") % {"error": exc.__class__.__name__ + ": " + str(exc)})[:500]
    finally:
        session.close()
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _read_answer(response: requests.Response, outcome: Outcome) -> None:
    try:
        outcome.status_code = response.status_code
        raw = b""
        try:
            for chunk in response.iter_content(1024):
                raw += chunk
                if len(raw) >= EXCERPT_CHARS * 4:  # enough for 500 characters in any UTF-8 text
                    break
        except requests.RequestException:  # the status line decides; a body cut short is only an excerpt
            pass
        outcome.response_excerpt = raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]
    finally:
        response.close()
    if 300 <= response.status_code < 400:
        outcome.error = _("Redirect to %(location)s not followed.") % {
            "location": response.headers.get("location", "?")[:300]
        }
    elif not 200 <= response.status_code < 300:
        outcome.error = _("The receiver answered HTTP %(status)s.") % {"status": response.status_code}
