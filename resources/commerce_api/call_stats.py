"""What every call did: endpoint, status, latency and attempts, aggregated into counters."""

from __future__ import annotations

import threading
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


RECENT_WINDOW = 256


@dataclass(frozen=True)
class CallRecord:
    api: str
    method: str
    path: str
    status: int | None  # None: no response (transport error)
    latency_seconds: float  # time on the wire, excluding waits on the pacer and backoff
    attempts: int
    pacer_wait_seconds: float
    product_no: int | None = None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile; None when there are no values."""
    if not len(values):
        return None
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return float(ordered[rank])


class CallStats:
    """Thread-safe counters over every HTTP attempt and every logical call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()  # (api, status) per HTTP attempt
        self.retries = 0
        self.calls = 0
        # One latency per attempt and per call, as doubles: 8 bytes each, not a float object's 32.
        self._attempt_latencies: dict[str, array] = defaultdict(lambda: array("d"))
        self._call_latencies: dict[str, array] = defaultdict(lambda: array("d"))
        self.pacer_wait_seconds: Counter[str] = Counter()
        self._recent_latencies: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=RECENT_WINDOW))

    def record_attempt(self, api: str, status: int | None, latency_seconds: float) -> None:
        with self._lock:
            self.requests[(api, str(status) if status is not None else "error")] += 1
            self._attempt_latencies[api].append(latency_seconds)
            self._recent_latencies[api].append(latency_seconds)

    def record_call(self, record: CallRecord) -> None:
        with self._lock:
            self.calls += 1
            self.retries += record.attempts - 1
            self._call_latencies[record.api].append(record.latency_seconds)
            self.pacer_wait_seconds[record.api] += record.pacer_wait_seconds

    @property
    def total_429(self) -> int:
        with self._lock:
            return sum(n for (_, status), n in self.requests.items() if status == "429")

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def requests_by_endpoint(self) -> dict[str, dict[str, int]]:
        with self._lock:
            table: dict[str, dict[str, int]] = defaultdict(dict)
            for (api, status), n in sorted(self.requests.items()):
                table[api][status] = n
            return dict(table)

    def attempt_latency_percentiles(self, api: str) -> dict[str, float | None]:
        """p50/p95/p99 of single HTTP attempts, in seconds (pacer waits excluded)."""
        with self._lock:
            values = array("d", self._attempt_latencies.get(api, ()))
        return {f"p{q}": percentile(values, q) for q in (50, 95, 99)}

    def recent_latency_p95(self, api: str) -> float | None:
        """p95 of the last few hundred attempts: cheap enough to ask after every call."""
        with self._lock:
            values = list(self._recent_latencies.get(api, ()))
        return percentile(values, 95)

    def call_latency_seconds(self, api: str) -> array:
        """Wire time of each logical call (all its attempts), pacer and backoff waits excluded."""
        with self._lock:
            return array("d", self._call_latencies.get(api, ()))
