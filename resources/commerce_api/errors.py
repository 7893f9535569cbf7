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
