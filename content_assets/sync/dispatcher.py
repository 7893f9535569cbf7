"""The detail dispatcher: the backlog of products to fetch, the calls in flight, and their outcomes.

Detail workers keep the detail bucket busy: as many calls in flight as its rate times the measured
latency asks for (detail_concurrency), or a fixed number. A failed call's error is classed as fatal
(it would hit every product alike: the sync stops), permanent (retrying will not fix it: the product
is quarantined) or neither (it counts as an error).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import TracebackType

from resources.commerce_api import (
    AuthenticationError,
    ClientRequestError,
    CommerceApiClient,
    CommerceApiError,
    MalformedResponseError,
    NotFoundError,
    ProductDetail,
    RateLimitedError,
)
from resources.store import NumberQueue

# Until measured, assume a detail call takes this long (seconds) when sizing concurrency.
INITIAL_LATENCY_GUESS = 0.25


@dataclass(frozen=True)
class DetailOutcome:
    origin_product_no: int
    detail: ProductDetail | None
    error: CommerceApiError | None


def detail_concurrency(rate_per_second: float, latency_seconds: float, ceiling: int) -> int:
    """Workers enough to keep the detail bucket busy: rate x latency in flight, plus slack."""
    needed = math.ceil(rate_per_second * latency_seconds * 1.5) + 1
    return max(1, min(ceiling, needed))


def is_fatal(error: CommerceApiError) -> bool:
    """Errors that would hit every product alike: stop instead of failing 1,000 calls."""
    if isinstance(error, AuthenticationError):
        return True
    if isinstance(error, RateLimitedError) and error.code == "GW.QUOTA_LIMIT":
        return True
    return error.status == 403


def is_permanent(error: CommerceApiError) -> bool:
    """Failures retrying will not fix: quarantined. (Fatal ones are handled first; 5xx, 429 and
    transport errors that outlasted the retries are transient, and count as errors.)"""
    return isinstance(error, NotFoundError | MalformedResponseError | ClientRequestError)


class DetailDispatcher:
    """Hands backlog products to the detail workers, up to the concurrency limit (a context manager:
    leaving it waits for the workers)."""

    def __init__(self, client: CommerceApiClient, *, concurrency: int | None, max_concurrency: int) -> None:
        self._client = client
        self._concurrency = concurrency  # None: sized from the pacing rate and measured latency
        self._max_concurrency = max_concurrency
        self._backlog = NumberQueue()  # what is left to fetch: the catalog, at first, 8 bytes a product
        self._in_flight: set[Future[DetailOutcome]] = set()
        workers = concurrency if concurrency is not None else max_concurrency
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="product-detail")

    def __enter__(self) -> DetailDispatcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._pool.shutdown(wait=True)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def has_backlog(self) -> bool:
        return bool(self._backlog)

    @property
    def busy(self) -> bool:
        """Calls in flight or products waiting for one."""
        return bool(self._in_flight or self._backlog)

    def seconds_left(self) -> float:
        """How long what is left to fetch (the backlog and the calls in flight) takes at the pace."""
        return (len(self._backlog) + len(self._in_flight)) / self._client.pacers["detail"].rate

    def enqueue(self, origin_product_nos: Iterable[int]) -> None:
        self._backlog.extend(origin_product_nos)

    def fill(self) -> int:
        """Start calls for the backlog up to the concurrency limit; how many are in flight."""
        limit = self._limit()
        while self._backlog and len(self._in_flight) < limit:
            self._in_flight.add(self._pool.submit(self._fetch, self._backlog.popleft()))
        return len(self._in_flight)

    def take(self, timeout: float) -> Iterator[DetailOutcome]:
        """The outcomes of the calls that end within `timeout` (at least one, unless it passes).
        Each leaves the calls in flight as it is taken: those not taken yet are still there."""
        done, _ = wait(self._in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            self._in_flight.discard(future)
            yield future.result()

    def cancel(self) -> None:
        """Cancel the calls not started yet (those running finish: see drain)."""
        for future in self._in_flight:
            future.cancel()

    def drain(self, timeout: float) -> list[ProductDetail]:
        """After cancel(): wait up to `timeout` for the calls still running; the details fetched."""
        details: list[ProductDetail] = []
        if self._in_flight:
            finished, _ = wait(self._in_flight, timeout=timeout)
            for future in finished:
                if not future.cancelled() and future.result().detail is not None:
                    details.append(future.result().detail)  # type: ignore[arg-type]
        return details

    def _limit(self) -> int:
        if self._concurrency is not None:
            return self._concurrency
        latency_p95 = self._client.stats.recent_latency_p95("detail")
        return detail_concurrency(self._client.pacers["detail"].rate, latency_p95 or INITIAL_LATENCY_GUESS,
                                  self._max_concurrency)

    def _fetch(self, origin_product_no: int) -> DetailOutcome:
        try:
            return DetailOutcome(origin_product_no, self._client.get_origin_product(origin_product_no), None)
        except CommerceApiError as exc:
            return DetailOutcome(origin_product_no, None, exc)
