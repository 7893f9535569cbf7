"""The access token, cached until shortly before it expires and fetched by one caller at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # on the cache's clock (monotonic seconds)

    def __repr__(self) -> str:  # never show the token itself
        return f"AccessToken(expires_at={self.expires_at:.0f})"


class TokenCache:
    """Single-flight token cache.

    The fetch runs while holding the lock, so when many threads find the token missing or stale
    at once, exactly one request goes out and the others wait for its result.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        refresh_margin_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch  # returns (token, expires_in_seconds)
        self._refresh_margin = refresh_margin_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._token: AccessToken | None = None

    def _is_fresh(self, token: AccessToken | None) -> bool:
        return token is not None and self._clock() < token.expires_at

    def get(self) -> str:
        token = self._token
        if self._is_fresh(token):
            return token.value  # type: ignore[union-attr]
        with self._lock:
            if not self._is_fresh(self._token):
                self._token = self._fetch_new()
            return self._token.value  # type: ignore[union-attr]

    def refresh(self, rejected: str) -> str:
        """Replace `rejected` (refused with 401) unless another caller already has."""
        with self._lock:
            if self._token is None or self._token.value == rejected or not self._is_fresh(self._token):
                self._token = self._fetch_new()
            return self._token.value

    def _fetch_new(self) -> AccessToken:
        value, expires_in = self._fetch()
        now = self._clock()
        # Refresh early, but never with a margin that eats most of a short-lived token.
        margin = min(self._refresh_margin, expires_in * 0.1)
        return AccessToken(value=value, expires_at=now + expires_in - margin)
