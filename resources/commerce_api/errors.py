"""Exceptions that say what happened, to which call and which product. Never carry secrets."""

from __future__ import annotations


class CommerceApiError(Exception):
    """A Commerce API call failed for good (after any retries)."""

    def __init__(
        self,
        message: str,
        *,
        api: str,
        method: str,
        path: str,
        status: int | None = None,
        code: str | None = None,
        trace_id: str | None = None,
        attempts: int = 1,
        product_no: int | None = None,
    ) -> None:
        self.api = api
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.trace_id = trace_id
        self.attempts = attempts
        self.product_no = product_no
        where = f"{method} {path}"
        if product_no is not None:
            where += f" (originProductNo {product_no})"
        status_text = f"HTTP {status}" if status is not None else "no response"
        code_text = f" {code}" if code else ""
        trace_text = f", trace {trace_id}" if trace_id else ""
        super().__init__(f"{where}: {status_text}{code_text} after {attempts} attempt(s): {message}{trace_text}")


class NotFoundError(CommerceApiError):
    """404 NOT_FOUND: the product is unknown or deleted."""


class RateLimitedError(CommerceApiError):
    """Still 429 after every retry."""


class AuthenticationError(CommerceApiError):
    """The token request was refused, or a fresh token was refused too."""


class TransientError(CommerceApiError):
    """5xx, transport error or timeout that outlasted every retry."""


class MalformedResponseError(CommerceApiError):
    """The body was not the JSON the contract promises."""


class ClientRequestError(CommerceApiError):
    """Any other 4xx: not retried, recorded against the product."""


class ApiAccessError(CommerceApiError):
    """Every call from here would fail the same way until someone acts (network, credentials,
    IP registration, clock, quota): the sync stops at once. `str()` is one line that names the
    cause and the remedy, for the run's failure description; the call details stay attributes."""

    def __init__(self, line: str, **call: object) -> None:
        super().__init__(line, **call)  # type: ignore[arg-type]
        self.line = line

    def __str__(self) -> str:
        return self.line


class ApiUnreachableError(ApiAccessError, TransientError):
    """No connection to the API at all: the host does not resolve, or nothing listens there."""


class CredentialsRefusedError(ApiAccessError, AuthenticationError):
    """The token endpoint refused the client id or the secret's signature."""


class ClockSkewError(ApiAccessError, AuthenticationError):
    """The token's timestamp was refused: this machine's clock is off."""


class IpNotAllowedError(ApiAccessError, ClientRequestError):
    """403 GW.IP_NOT_ALLOWED: this machine's IP is not registered for the app."""


class QuotaLimitedError(ApiAccessError, RateLimitedError):
    """429 GW.QUOTA_LIMIT: the app is over a quota; waiting seconds will not help."""


class ImageTooLargeError(ValueError):
    """A CDN answer (picture or video) bigger than the caller allows; not retried."""


class ImageTooSlowError(TimeoutError):
    """A CDN answer that did not arrive whole within its deadline; not retried."""
