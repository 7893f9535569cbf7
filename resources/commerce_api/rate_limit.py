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
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

REPLENISH_RATE_HEADER = "GNCP-GW-RateLimit-Replenish-Rate"
BURST_CAPACITY_HEADER = "GNCP-GW-RateLimit-Burst-Capacity"
REMAINING_HEADER = "GNCP-GW-RateLimit-Remaining"

# Proved safe at 2 req/s with jittered latency, against buckets that refill continuously and by
# whole seconds (Spring's limiter): 0.99, 0.998 and 1.0 each synced 1,000 products with 0 x 429,
# at 0.985, 0.993 and 0.995 efficiency (benchmarks/scenarios/sync.py with `safety` and `refill`).
# The token kept in hand absorbs the jitter; this is margin for clocks that drift apart. A known
# limit: against whole-second refills at 20 req/s, 3-8 of 233 calls met a 429 at 0.99, 0.998 and
# 1.0 alike: a second's tokens arrive at once there, while this bucket fills evenly, and one
# token in hand covers that phase only at rates near the real API's 1-2 req/s.
DEFAULT_SAFETY = 0.998
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
    """A token bucket whose waiters queue in order, first come first served.

    Only the caller at the head of the queue waits for a token, sleeping exactly until one is
    due at the current rate; when it leaves it wakes the next. When the server's advertised rate
    changes, the head is woken to recompute its wait, so a queue built at a fast rate drains at
    the new, slower one instead of firing on the old schedule.
    """

    def __init__(
        self,
        api: str,
        *,
        rate: float,
        burst: float | None = None,
        safety: float = DEFAULT_SAFETY,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Event, float], object] | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"pacing rate for {api} must be positive, got {rate}")
        self.api = api
        self.safety = safety
        self._clock = clock
        self._wait = wait or (lambda event, timeout: event.wait(timeout))
        self._lock = threading.Lock()
        self._queue: deque[threading.Event] = deque()
        self._advertised_rate = rate
        self._rate = rate * safety
        # Keep one token of the burst in hand: latency jitter can land two requests in the
        # server's bucket closer together than they left ours.
        self._capacity = max((burst if burst is not None else 2 * rate) - 1, 1.0)
        self._tokens = self._capacity
        self._updated = clock()
        # Until the server's first numbers arrive, the bucket is our guess. Requests let through
        # and not yet answered count against what the server then says it has left.
        self._heard_from_server = False
        self._unanswered = 0

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

    def _wake_head(self) -> None:
        if self._queue:
            self._queue[0].set()

    def acquire(self) -> float:
        """Block until this caller may send; return the seconds spent waiting."""
        turn = threading.Event()
        started = self._clock()
        with self._lock:
            self._queue.append(turn)
            if self._queue[0] is turn:
                turn.set()
        while True:
            if not turn.is_set():
                self._wait(turn, None)  # behind others: the one ahead wakes us when it leaves
            with self._lock:
                now = self._clock()
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    self._unanswered += 1
                    self._queue.popleft()
                    self._wake_head()
                    return now - started
                due_in = (1.0 - self._tokens) / self._rate
                turn.clear()
            # Head of the queue: sleep until a token is due, or until observe() changes the rate.
            self._wait(turn, due_in)
            turn.set()

    def observe(self, limit: AdvertisedLimit) -> None:
        """Follow the rate and burst the server advertises; never hold more than it has left.

        The first answer replaces the guess: with a guessed 2 req/s the pacer starts with 3
        tokens, and a server with a burst of 40 would otherwise see ~36 of them go unused, about
        two seconds at 20 req/s."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._unanswered = max(0, self._unanswered - 1)
            first_word = not self._heard_from_server
            self._heard_from_server = True
            # A new rate or more tokens may let the head of the queue go now: wake it.
            wake = limit.replenish_rate != self._advertised_rate
            if wake:
                self._advertised_rate = limit.replenish_rate
                self._rate = limit.replenish_rate * self.safety
            self._capacity = max(limit.burst_capacity - 1, 1.0)
            self._tokens = min(self._tokens, self._capacity)
            if first_word and limit.remaining is not None:
                # What the server has left, less our requests it has not answered yet, less the
                # token kept in hand.
                known = limit.remaining - self._unanswered - 1
                if known > self._tokens:
                    self._tokens = min(self._capacity, known)
                    wake = True
            if limit.remaining is not None and self._tokens > limit.remaining:
                # Someone else spends from the same bucket (another process of this app), or
                # our clock drifted: trust the server.
                self._tokens = limit.remaining
            if wake:
                self._wake_head()

    def penalize(self) -> None:
        """After a 429 the server's bucket is empty: stop spending until it refills, and keep a
        wider margin from now on."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)
            self.safety = max(MIN_SAFETY, self.safety - SAFETY_STEP_ON_429)
            self._rate = self._advertised_rate * self.safety
