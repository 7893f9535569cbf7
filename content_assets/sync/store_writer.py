"""The store writer: the one thread that owns the DuckDB connection.

Every store call of a sync runs on it, so writes never stall the loop that feeds the detail
workers, and they run in the order they were submitted: a page's listing is written before the
detail chunks of its products, which queue behind it. Details are written in chunks as they
arrive, so a sync that dies midway keeps what it fetched, and the next one resumes without
fetching it again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from resources.commerce_api import ListedProduct, ProductDetail
from resources.store import CatalogStore, DetailLedger, ListingWrite, QuarantineLedger, UpsertCounts

from content_assets.sync.report import SyncReport

# Detail chunks queued for the writer before the loop waits for it (bounds memory).
MAX_PENDING_WRITES = 4
# Listing pages queued for the writer before the loop takes no more pages (each holds its ~500
# products until written: unbounded, a lister far ahead of the writer held the catalog).
MAX_PENDING_LISTINGS = 4


# How often details are written once the sync ends within a flush interval. Each write hands its
# products to `on_stored` (the media warm-up stages their packages): written every 5 s, the last
# write before the tail held up to 100 products at 20 req/s, staged at once as the sync ended,
# and a third of them were left to the package run; written every 0.5 s it holds about 10.
ENDING_FLUSH_SECONDS = 0.5


class StoreWriter:
    """Buffers the fetched details and writes them every `flush_rows` rows or `flush_seconds`;
    the loop thread submits and collects, the writer's thread does the store's work."""

    def __init__(
        self, store: CatalogStore, report: SyncReport, *, moment: datetime, flush_rows: int,
        flush_seconds: float, on_stored: Callable[[CatalogStore, list[int]], None] | None,
    ) -> None:
        self._store = store
        self._report = report
        self._flush_rows = flush_rows
        self._flush_seconds = flush_seconds
        self._on_stored = on_stored
        self._last_flush = time.perf_counter()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        # Read while the token and the first page are on their way.
        self._ledger = self._executor.submit(store.detail_ledger)
        self._quarantine = self._executor.submit(store.quarantine_ledger, moment)
        self._fetched: list[ProductDetail] = []
        self._pending_writes: deque[Future[tuple[UpsertCounts, float]]] = deque()
        self._pending_listings: deque[Future[tuple[ListingWrite, float]]] = deque()

    def ledger(self) -> DetailLedger:
        """The store's detail ledger (waits for the read)."""
        return self._ledger.result()

    def quarantine(self) -> QuarantineLedger:
        """The quarantine as the sync started (waits for the read)."""
        return self._quarantine.result()

    def write_listing(self, products: Sequence[ListedProduct]) -> None:
        self._pending_listings.append(self._executor.submit(self._write_listing, products))

    def add(self, details: Sequence[ProductDetail]) -> None:
        """Buffer fetched details for the next flush."""
        self._fetched.extend(details)

    def flush_if_due(self, now: float, *, tail: bool, ending: bool = False) -> None:
        """Flush when `flush_rows` or `flush_seconds` is reached, on any detail in the `tail`, and
        every ENDING_FLUSH_SECONDS while `ending` (the sync ends within a flush interval)."""
        interval = min(self._flush_seconds, ENDING_FLUSH_SECONDS) if ending else self._flush_seconds
        if self._fetched and (tail or len(self._fetched) >= self._flush_rows or now - self._last_flush >= interval):
            self.flush()

    @property
    def flush_seconds(self) -> float:
        return self._flush_seconds

    def flush(self) -> None:
        if self._fetched:
            self._pending_writes.append(self._executor.submit(self._write_details, list(self._fetched)))
            self._fetched.clear()
        self._last_flush = time.perf_counter()
        self.collect_writes(block=False)

    def collect_writes(self, *, block: bool) -> None:
        """Count the detail chunks written; wait while more than MAX_PENDING_WRITES are queued."""
        pending = self._pending_writes
        while pending and (block or pending[0].done() or len(pending) > MAX_PENDING_WRITES):
            counts, seconds = pending.popleft().result()
            self._report.upsert += counts
            self._report.db_seconds += seconds

    def room_for_listing(self, *, wait: bool) -> bool:
        """Whether another page may be handed to the writer (fewer than MAX_PENDING_LISTINGS
        queued); with `wait`, waits for the oldest to be written until there is room."""
        self.collect_listing_writes(block=False)
        while wait and len(self._pending_listings) >= MAX_PENDING_LISTINGS:
            self._collect_listing_write()
        return len(self._pending_listings) < MAX_PENDING_LISTINGS

    def collect_listing_writes(self, *, block: bool) -> None:
        while self._pending_listings and (block or self._pending_listings[0].done()):
            self._collect_listing_write()

    def _collect_listing_write(self) -> None:
        written, seconds = self._pending_listings.popleft().result()
        self._report.deleted_changed += len(written.deleted_changed)
        self._report.upsert += written.deleted_upsert
        self._report.db_seconds += seconds

    def finish(self) -> None:
        """Write what is buffered and wait for every write."""
        self.flush()
        self.collect_writes(block=True)
        self.collect_listing_writes(block=True)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)

    def _write_details(self, chunk: list[ProductDetail]) -> tuple[UpsertCounts, float]:
        db_started = time.perf_counter()
        counts = self._store.apply_details(chunk)
        seconds = time.perf_counter() - db_started
        if self._on_stored is not None:
            self._on_stored(self._store, [detail.origin_product_no for detail in chunk])
        return counts, seconds

    def _write_listing(self, products: Sequence[ListedProduct]) -> tuple[ListingWrite, float]:
        db_started = time.perf_counter()
        written = self._store.write_listing(products)
        return written, time.perf_counter() - db_started
