"""Access tokens: issuance with Naver's reuse rule, lookup, and forced expiry.

Each (client_id, type, account_id) has its own current token: a SELLER-type app holds one per seller.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# A token request returns the current token while it has at least this long to live.
REUSE_MIN_REMAINING_SECONDS = 30 * 60


@dataclass
class AccessToken:
    value: str
    client_id: str
    expires_at: float  # on the store's monotonic clock
    account_id: str | None = None  # the seller a SELLER-type app's token acts for

    @property
    def token_type(self) -> str:
        return "SELF" if self.account_id is None else "SELLER"

    def remaining_seconds(self, now: float) -> float:
        return self.expires_at - now


@dataclass(frozen=True)
class TokenGrant:
    """What a token request gets: the token, its remaining life, and whether it is new."""

    token: AccessToken
    expires_in: int
    newly_issued: bool


class TokenStore:
    """Every token ever issued, and which one is current for each client (and seller account)."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._by_value: dict[str, AccessToken] = {}
        self._current: dict[tuple[str, str, str | None], AccessToken] = {}
        self._issued_in_order: list[str] = []

    def grant(self, client_id: str, account_id: str | None = None) -> TokenGrant:
        """Return the current token of (client, type, account) if it still has >= 30 minutes, else a new one.

        A replaced token is not revoked: it stays valid until its own expiry, like Naver's.
        """
        with self._lock:
            now = self._clock()
            key = (client_id, "SELF" if account_id is None else "SELLER", account_id)
            current = self._current.get(key)
            if current is not None and current.remaining_seconds(now) >= REUSE_MIN_REMAINING_SECONDS:
                return TokenGrant(current, round(current.remaining_seconds(now)), newly_issued=False)
            token = AccessToken(secrets.token_urlsafe(32), client_id, now + self._ttl_seconds, account_id)
            self._by_value[token.value] = token
            self._current[key] = token
            self._issued_in_order.append(token.value)
            return TokenGrant(token, round(self._ttl_seconds), newly_issued=True)

    def lookup(self, value: str | None) -> AccessToken | None:
        """The token with this value, expired or not (the gateway keys rate limits on it)."""
        if not value:
            return None
        return self._by_value.get(value)

    def validate(self, value: str | None) -> AccessToken | None:
        """The token if it exists and has not expired, else None."""
        token = self.lookup(value)
        if token is None or token.remaining_seconds(self._clock()) <= 0:
            return None
        return token

    def expire_all(self) -> None:
        with self._lock:
            expired_at = self._clock() - 1
            for token in self._by_value.values():
                token.expires_at = min(token.expires_at, expired_at)

    def issued_values(self) -> list[str]:
        with self._lock:
            return list(self._issued_in_order)
