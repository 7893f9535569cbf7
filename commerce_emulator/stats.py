"""Counters of what the emulator answered, for tests and benchmarks to compare against clients' own counts."""

from __future__ import annotations

import threading
from collections import Counter

from .config import API_NAMES


class EmulatorStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._responses = {api: Counter() for api in API_NAMES}
            self._faults: Counter[str] = Counter()
            self._tokens_issued = 0
            self._images_served = 0
            self._videos_served = 0
            self._rate_limited = 0
            self._quota_limited = 0

    def record_response(self, api: str, outcome: str) -> None:
        """`outcome` is the HTTP status as text, or "reset" for a dropped connection."""
        with self._lock:
            self._responses[api][outcome] += 1

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def record_token_issued(self) -> None:
        with self._lock:
            self._tokens_issued += 1

    def record_image_served(self) -> None:
        with self._lock:
            self._images_served += 1

    def record_video_served(self) -> None:
        with self._lock:
            self._videos_served += 1

    def record_rate_limited(self) -> None:
        with self._lock:
            self._rate_limited += 1

    def record_quota_limited(self) -> None:
        with self._lock:
            self._quota_limited += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": {api: dict(counts) for api, counts in self._responses.items()},
                "token_issued": self._tokens_issued,
                "images_served": self._images_served,
                "videos_served": self._videos_served,
                "rate_limited": self._rate_limited,
                "quota_limited": self._quota_limited,
                "faults": dict(self._faults),
            }
