"""A SELLER-type app's per-seller quota: each seller account's own bucket per API, besides the app's.

Over it the gateway answers 429 GW.QUOTA_LIMIT with `GNCP-GW-Quota-Period: SECONDS` (contract
section 3), not the app's GW.RATE_LIMIT. The bucket holds one second's worth, no burst: a quota
of R per second admits at most R calls in any second once spent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .api_errors import ApiError, seller_quota_limited
from .rate_limit import RateLimiter, burst_capacity, format_number
from .stores import StoreKey

QUOTA_BURST_PER_RATE = 1.0


class SellerQuota:
    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limiter = RateLimiter(rate, clock, burst_per_rate=QUOTA_BURST_PER_RATE)
        self._limit = format_number(burst_capacity(rate, QUOTA_BURST_PER_RATE))

    def refusal(self, api: str, seller: StoreKey) -> ApiError | None:
        """Spend one call of this seller's quota for `api`, or the 429 it gets when none is left."""
        decision = self._limiter.acquire(api, f"{seller.client_id}\0{seller.account_id}")
        return None if decision.allowed else seller_quota_limited(self._limit, decision.remaining)

