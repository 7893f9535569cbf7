"""Bounded retries with exponential backoff and full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_base_seconds: float = 0.25
    backoff_max_seconds: float = 8.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before retry `retry_number` (1-based): uniform in [0, base * 2^(n-1)]."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (retry_number - 1))
        return rng.uniform(0, ceiling)
