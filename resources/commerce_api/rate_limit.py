"""Client-side pacing: a token bucket per API that mirrors the gateway's, so a sync sees no 429.

The gateway refills each API's bucket at `GNCP-GW-RateLimit-Replenish-Rate` per second up to a
burst of twice that. The pacer starts from a configured guess, then follows the rate and burst the
server advertises on every response, so it adapts when they change mid-run. It spends a little
under the advertised rate (`safety`) and keeps one token of the burst in hand, because requests
reach the server with jittered latency; every 429 lowers the safety factor a notch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

REPLENISH_RATE_HEADER = "GNCP-GW-RateLimit-Replenish-Rate"
BURST_CAPACITY_HEADER = "GNCP-GW-RateLimit-Burst-Capacity"
REMAINING_HEADER = "GNCP-GW-RateLimit-Remaining"

DEFAULT_SAFETY = 0.99
SAFETY_STEP_ON_429 = 0.02
MIN_SAFETY = 0.90


@dataclass(frozen=True)
class AdvertisedLimit:
    replenish_rate: float
    burst_capacity: float
    remaining: float | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> AdvertisedLimit | None:
        try:
            rate = float(headers[REPLENISH_RATE_HEADER])
        except (KeyError, ValueError):
            return None
        if rate <= 0:
            return None
        try:
            burst = float(headers.get(BURST_CAPACITY_HEADER, 2 * rate))
        except ValueError:
            burst = 2 * rate
        try:
            remaining: float | None = float(headers[REMAINING_HEADER])
        except (KeyError, ValueError):
            remaining = None
        return cls(rate, max(burst, 1.0), remaining)


def floor_seconds(calls: int, replenish_rate: float, burst_capacity: float) -> float:
    """The least time `calls` requests can take through a full bucket: the burst is free,
    every call beyond it waits for a token."""
    return max(0.0, calls - burst_capacity) / replenish_rate


class Pacer:
    """A reservation-based token bucket: each caller is given its own departure time.

    `acquire()` takes a token if one is there, otherwise reserves the next one (the bucket goes
    negative) and sleeps until it is due. Reservations keep callers in order and make the
    spacing exact, instead of many threads waking up together and racing for one token.
    """

    def __init__(
        self,
        api: str,
        *,
        rate: float,
        burst: float | None = None,
        safety: float = DEFAULT_SAFETY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"pacing rate for {api} must be positive, got {rate}")
        self.api = api
        self.safety = safety
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._advertised_rate = rate
        self._rate = rate * safety
        # Keep one token of the burst in hand: latency jitter can land two requests in the
        # server's bucket closer together than they left ours.
        self._capacity = max((burst if burst is not None else 2 * rate) - 1, 1.0)
        self._tokens = self._capacity
        self._updated = clock()
        self._generation = 0  # bumped when the rate drops, to re-time sleeping reservations
        self.total_wait_seconds = 0.0

    @property
    def rate(self) -> float:
        """The rate the pacer spends at, in requests per second."""
        return self._rate

    @property
    def advertised_rate(self) -> float:
        return self._advertised_rate

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def advertised_burst(self) -> float:
        return self._capacity + 1

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
            self._updated = now

    def acquire(self) -> float:
        """Block until this caller may send; return the seconds spent waiting.

        A caller sleeping on a reservation when the rate drops gives its token back and queues
        again at the new rate, rather than sending on a schedule the server no longer honours.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                self._tokens -= 1.0
                wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
                generation = self._generation
            if wait <= 0:
                break
            self._sleep(wait)
            waited += wait
            with self._lock:
                if generation == self._generation:
                    break
                self._tokens += 1.0  # the reservation was made at a rate that no longer holds
        if waited:
            with self._lock:
                self.total_wait_seconds += waited
        return waited

    def observe(self, limit: AdvertisedLimit) -> None:
        """Follow the rate and burst the server advertises; never hold more than it has left."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if limit.replenish_rate != self._advertised_rate:
                if limit.replenish_rate < self._advertised_rate:
                    self._generation += 1
                self._advertised_rate = limit.replenish_rate
                self._rate = limit.replenish_rate * self.safety
            self._capacity = max(limit.burst_capacity - 1, 1.0)
            if self._tokens > self._capacity:
                self._tokens = self._capacity
            if limit.remaining is not None and self._tokens > limit.remaining:
                # Someone else spends from the same bucket (another process of this app), or
                # our clock drifted: trust the server.
                self._tokens = limit.remaining

    def penalize(self) -> None:
        """After a 429 the server's bucket is empty: stop spending until it refills, and keep a
        wider margin from now on."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if self._tokens > 0:
                self._tokens = 0.0
            self.safety = max(MIN_SAFETY, self.safety - SAFETY_STEP_ON_429)
            self._rate = self._advertised_rate * self.safety
