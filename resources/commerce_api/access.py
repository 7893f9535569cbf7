"""Failures that mean the API cannot be used from here at all, each told in one line with its remedy.

Unreachable host, refused credentials, an unregistered IP, a wrong clock and a spent quota hit
every call alike: retrying them is a storm that changes nothing, so they stop the sync at once.
"""

from __future__ import annotations

import errno
import json
import socket
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import (
    ApiAccessError,
    ClockSkewError,
    CredentialsRefusedError,
    IpNotAllowedError,
    QuotaLimitedError,
)

# A host that does not resolve or refuses connections is retried this many times, not the
# full budget: an API restarting comes back in a second, a wrong URL never does.
CONNECT_RETRIES = 2
# The Date header has whole seconds: below this a skew cannot be told from rounding.
MIN_REPORTED_SKEW_SECONDS = 2.0

Refusal = tuple[type[ApiAccessError], str]


def unreachable(base_url: str, exc: httpx.TransportError) -> str | None:
    """The line for a connection that could not open (DNS, refused, no route); None for other
    transport errors (resets, timeouts), which the usual retries handle."""
    if not isinstance(exc, httpx.ConnectError):
        return None
    url = urlsplit(base_url)
    cause = _root_os_error(exc)
    if isinstance(cause, socket.gaierror):
        why = f"the host name {url.hostname} does not resolve (DNS: {cause.strerror})"
    elif isinstance(cause, ConnectionRefusedError):
        why = f"connection refused (nothing listens on {url.hostname} port {url.port or _default_port(url.scheme)})"
    elif cause is not None and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        why = f"no route to {url.hostname} ({cause.strerror})"
    else:
        return None
    return (f"cannot reach the Commerce API at {base_url}: {why}; "
            "check NAVER_COMMERCE_BASE_URL, this machine's network, and that the API (or the emulator) is up")


def gateway_refusal(response: httpx.Response, code: str | None, client_id: str) -> Refusal | None:
    """403 GW.IP_NOT_ALLOWED and 429 GW.QUOTA_LIMIT (by the hour or day), on any API."""
    if response.status_code == 403 and code == "GW.IP_NOT_ALLOWED":
        return IpNotAllowedError, (
            f"the Commerce API does not accept calls from this machine's IP address (403 GW.IP_NOT_ALLOWED); "
            f"register this machine's public IP for the app (client id {client_id!r}) in the Commerce API "
            "center, then run again")
    if response.status_code == 429 and code == "GW.QUOTA_LIMIT":
        period = response.headers.get("GNCP-GW-Quota-Period", "unknown period")
        if period.upper() == "SECONDS":
            return None  # a solution app's per-seller quota: over in a second, retried like a 429

        limit = response.headers.get("GNCP-GW-Quota-Limit", "unknown")
        return QuotaLimitedError, (
            f"the Commerce API app is over its quota (429 GW.QUOTA_LIMIT: {limit} call(s) per {period}); "
            "stopped without retrying: run again once the quota period has passed (sending token "
            "credentials in a query string earns this penalty for a day)")
    return None


def token_refusal(
    response: httpx.Response, code: str | None, message: str | None, client_id: str, wall_clock: Callable[[], float]
) -> Refusal | None:
    """What a 400/401/403 from the token endpoint means: the clock or the credentials."""
    if response.status_code not in (400, 401, 403):
        return None
    if _names_timestamp(response):
        return ClockSkewError, (
            f"the Commerce API refused the token's timestamp: this machine's clock looks off"
            f"{_skew_text(response, wall_clock)}; set the clock right (NTP) and run again")
    said = " ".join(part for part in (code, message) if part)
    return CredentialsRefusedError, (
        f"the Commerce API refused the credentials for client id {client_id!r} "
        f"(HTTP {response.status_code}{': ' + said if said else ''}); "
        "check NAVER_COMMERCE_CLIENT_ID and NAVER_COMMERCE_CLIENT_SECRET")


def bad_secret_line(client_id: str) -> str:
    """The secret is not even shaped like one Naver issues; the secret itself is never shown."""
    return (f"the client secret for client id {client_id!r} is not a bcrypt salt like the ones Naver "
            "issues ($2a$10$ and 22 more characters); check NAVER_COMMERCE_CLIENT_SECRET")


def _names_timestamp(response: httpx.Response) -> bool:
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    inputs = body.get("invalidInputs")
    if isinstance(inputs, list) and any(isinstance(i, dict) and i.get("name") == "timestamp" for i in inputs):
        return True
    return "timestamp" in str(body.get("message", "")).lower()


def _skew_text(response: httpx.Response, wall_clock: Callable[[], float]) -> str:
    try:
        server_now = parsedate_to_datetime(response.headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return ""
    skew = wall_clock() - server_now
    if abs(skew) < MIN_REPORTED_SKEW_SECONDS:
        return ""
    return f" (about {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the API server's clock)"


def _root_os_error(exc: BaseException) -> OSError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
