"""Fault injection and added latency for the API routes: what a flaky gateway does to a client."""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

from .config import API_NAMES
from .rate_limit import check_api_name

# Every kind `inject` accepts. "reset" drops the TCP connection with an RST,
# "slow" answers only after the configured slow_seconds, "malformed" sends a
# truncated JSON body; "ip_not_allowed" (403 GW.IP_NOT_ALLOWED) and "quota_limit" (429
# GW.QUOTA_LIMIT with its quota headers) are what an unregistered IP and a spent quota get;
# the rest are the documented error responses.
FAULT_KINDS = frozenset({"401", "429", "500", "503", "reset", "slow", "malformed", "404",
                         "ip_not_allowed", "quota_limit"})
# What a broken product's detail does on every request until cleared: "404" answers NOT_FOUND
# while the product is still listed, "invalid" answers 200 with a detail that breaks the contract
# (salePrice -1). A product that can never be synced, unlike the one-shot faults above.
BROKEN_PRODUCT_KINDS = frozenset({"404", "invalid"})


class UnknownFaultError(ValueError):
    """A fault kind outside FAULT_KINDS."""


@dataclass(frozen=True)
class FaultProbabilities:
    """Per-request probabilities of the random faults for one API."""

    http_500: float = 0.0
    reset: float = 0.0
    slow: float = 0.0
    malformed: float = 0.0

    def __post_init__(self) -> None:
        values = (self.http_500, self.reset, self.slow, self.malformed)
        if any(not 0.0 <= value <= 1.0 for value in values):
            raise ValueError(f"fault probabilities must be within 0..1, got {self}")
        if sum(values) > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities must add up to at most 1, got {sum(values):g}")

    def draw(self, rng: random.Random) -> str | None:
        """One fault kind or None, from a single uniform draw."""
        point = rng.random()
        for kind, probability in (
            ("500", self.http_500),
            ("reset", self.reset),
            ("slow", self.slow),
            ("malformed", self.malformed),
        ):
            if point < probability:
                return kind
            point -= probability
        return None


class FaultInjector:
    """Decides the fault (if any) of each API request: queued injections first, then random faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probabilities = {api: FaultProbabilities() for api in API_NAMES}
        self._rngs = {api: random.Random(0) for api in API_NAMES}
        self._queued: dict[str, deque[str]] = {api: deque() for api in API_NAMES}
        # Keyed by (store, originProductNo): numbers of different catalogs can coincide.
        self._broken_products: dict[tuple[Hashable, int], str] = {}

    def set_probabilities(self, api: str, probabilities: FaultProbabilities, seed: int = 0) -> None:
        check_api_name(api)
        with self._lock:
            self._probabilities[api] = probabilities
            self._rngs[api] = random.Random(seed)

    def inject(self, api: str, kind: str, count: int = 1) -> None:
        """The next `count` requests to `api` get `kind`, after any faults already queued."""
        check_api_name(api)
        if kind not in FAULT_KINDS:
            raise UnknownFaultError(f"unknown fault kind {kind!r}; expected one of {', '.join(sorted(FAULT_KINDS))}")
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        with self._lock:
            self._queued[api].extend([kind] * count)

    def next_fault(self, api: str) -> str | None:
        with self._lock:
            queued = self._queued[api]
            if queued:
                return queued.popleft()
            return self._probabilities[api].draw(self._rngs[api])

    def break_products(self, origin_product_nos: list[int], kind: str | None, store_key: Hashable = None) -> None:
        """Every detail request for these products of that store gets `kind` until cleared (None clears them)."""
        if kind is not None and kind not in BROKEN_PRODUCT_KINDS:
            raise UnknownFaultError(f"unknown broken-product kind {kind!r}; expected one of "
                                    f"{', '.join(sorted(BROKEN_PRODUCT_KINDS))}")
        with self._lock:
            for number in origin_product_nos:
                if kind is None:
                    self._broken_products.pop((store_key, int(number)), None)
                else:
                    self._broken_products[(store_key, int(number))] = kind

    def broken_product(self, raw_origin_product_no: str, store_key: Hashable = None) -> str | None:
        with self._lock:
            if not self._broken_products or not raw_origin_product_no.isdigit():
                return None
            return self._broken_products.get((store_key, int(raw_origin_product_no)))

    def clear(self) -> None:
        with self._lock:
            self._broken_products.clear()
            for api in API_NAMES:
                self._queued[api].clear()
                self._probabilities[api] = FaultProbabilities()


class LatencyModel:
    """Per-request delay: lognormal with the given mean and standard deviation, never negative."""

    def __init__(self, mean_ms: float = 0.0, jitter_ms: float = 0.0, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._mean_ms = 0.0
        self._jitter_ms = 0.0
        self.set(mean_ms, jitter_ms)

    def set(self, mean_ms: float, jitter_ms: float = 0.0) -> None:
        if mean_ms < 0 or jitter_ms < 0:
            raise ValueError(f"latency must be >= 0 ms, got mean {mean_ms}, jitter {jitter_ms}")
        with self._lock:
            self._mean_ms = float(mean_ms)
            self._jitter_ms = float(jitter_ms)

    def settings(self) -> dict[str, float]:
        with self._lock:
            return {"mean_ms": self._mean_ms, "jitter_ms": self._jitter_ms}

    def sample_seconds(self) -> float:
        with self._lock:
            mean, jitter = self._mean_ms, self._jitter_ms
            if jitter == 0.0:
                return mean / 1000.0
            if mean == 0.0:
                return self._rng.uniform(0.0, jitter) / 1000.0
            # Lognormal parameters matching the requested mean and standard deviation:
            # a long right tail like real network latency, and never below zero.
            sigma_squared = math.log1p((jitter / mean) ** 2)
            mu = math.log(mean) - sigma_squared / 2
            return self._rng.lognormvariate(mu, math.sqrt(sigma_squared)) / 1000.0
