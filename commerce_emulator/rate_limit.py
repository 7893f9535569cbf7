"""Server-side token buckets, one per API and per client, like the Commerce API gateway's."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import API_NAMES, REFILLS

# The gateway defines burst capacity as twice the replenish rate.
BURST_PER_RATE = 2.0


def burst_capacity(rate: float, burst_per_rate: float = BURST_PER_RATE) -> float:
    # At least one token, or a rate below 0.5/s could never admit a request.
    return max(1.0, rate * burst_per_rate)


class UnknownApiError(ValueError):
    """An API name other than "token", "search" or "detail"."""


def check_api_name(api: str) -> str:
    if api not in API_NAMES:
        raise UnknownApiError(f"unknown API {api!r}; expected one of {', '.join(API_NAMES)}")
    return api


class TokenBucket:
    """Refill at `rate` tokens/second up to `capacity` (continuously, or a second's worth at each
    whole second: REFILLS); starts full."""

    __slots__ = ("rate", "capacity", "tokens", "updated", "whole_seconds")

    def __init__(self, rate: float, now: float, burst_per_rate: float = BURST_PER_RATE,
                 refill: str = "continuous") -> None:
        if refill not in REFILLS:
            raise ValueError(f"refill must be one of {', '.join(REFILLS)}, got {refill!r}")
        self.rate = rate
        self.capacity = burst_capacity(rate, burst_per_rate)
        self.tokens = self.capacity
        self.updated = now
        self.whole_seconds = refill == "whole-seconds"

    def restart(self, rate: float, now: float, burst_per_rate: float) -> None:
        """A new rate, and full at its burst."""
        self.rate = rate
        self.capacity = burst_capacity(rate, burst_per_rate)
        self.tokens = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        if now > self.updated:
            elapsed = math.floor(now) - math.floor(self.updated) if self.whole_seconds else now - self.updated
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
            self.updated = now

    def try_take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may pass, and the numbers the gateway reports in its headers."""

    allowed: bool
    replenish_rate: float
    burst_capacity: float
    remaining: int

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("GNCP-GW-RateLimit-Replenish-Rate", format_number(self.replenish_rate)),
            ("GNCP-GW-RateLimit-Burst-Capacity", format_number(self.burst_capacity)),
            ("GNCP-GW-RateLimit-Remaining", str(self.remaining)),
        ]


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class RateLimiter:
    """Buckets keyed by (API, client); each API has its own replenish rate, which one client may override.

    `burst_per_rate` is the gateway's 2 for the app buckets; a per-second quota uses 1.
    """

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, *, burst_per_rate: float = BURST_PER_RATE,
        refill: str = "continuous",
    ) -> None:
        _check_rate(rate)
        if refill not in REFILLS:
            raise ValueError(f"refill must be one of {', '.join(REFILLS)}, got {refill!r}")
        self._clock = clock
        self._burst_per_rate = burst_per_rate
        self._refill = refill
        self._lock = threading.Lock()
        self._rates = {api: float(rate) for api in API_NAMES}
        self._client_rates: dict[tuple[str, str], float] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def acquire(self, api: str, client_key: str) -> RateDecision:
        """Take one token from the bucket if it holds at least one."""
        with self._lock:
            now = self._clock()
            bucket = self._bucket(api, client_key, now)
            allowed = bucket.try_take(now)
            return RateDecision(allowed, bucket.rate, bucket.capacity, math.floor(bucket.tokens))

    def peek(self, api: str, client_key: str) -> RateDecision:
        """The bucket's numbers without taking a token (for responses refused before the bucket)."""
        with self._lock:
            now = self._clock()
            bucket = self._bucket(api, client_key, now)
            bucket.refill(now)
            return RateDecision(True, bucket.rate, bucket.capacity, math.floor(bucket.tokens))

    def set_rate(self, rate: float, api: str | None = None, client_key: str | None = None) -> None:
        """Change the replenish rate of one API (or all), for every client or for one; the buckets
        changed restart full at the new burst. A rate for every client replaces one client's own."""
        _check_rate(rate)
        apis = API_NAMES if api is None else (check_api_name(api),)
        with self._lock:
            now = self._clock()
            for name in apis:
                if client_key is None:
                    self._rates[name] = float(rate)
                    self._client_rates = {key: value for key, value in self._client_rates.items() if key[0] != name}
                else:
                    self._client_rates[(name, client_key)] = float(rate)
            for (name, client), bucket in self._buckets.items():
                if name in apis and client_key in (None, client):
                    bucket.restart(float(rate), now, self._burst_per_rate)

    def rates(self, client_key: str | None = None) -> dict[str, float]:
        """The replenish rate of each API, for every client or as one client has it."""
        with self._lock:
            return {api: self._rate_of(api, client_key) for api in API_NAMES}

    def _rate_of(self, api: str, client_key: str | None) -> float:
        return self._client_rates.get((api, client_key), self._rates[api]) if client_key else self._rates[api]

    def _bucket(self, api: str, client_key: str, now: float) -> TokenBucket:
        key = (api, client_key)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self._rate_of(check_api_name(api), client_key)
            bucket = self._buckets[key] = TokenBucket(rate, now, self._burst_per_rate, self._refill)
        return bucket


def _check_rate(rate: float) -> None:
    if not rate > 0:
        raise ValueError(f"rate must be > 0 requests/second, got {rate}")
