"""The catalog sync: list every page, fetch details only for new or changed products, upsert.

Listing and detail calls use separate rate-limit buckets, so they overlap: a lister thread pages
through the search while detail workers fetch the products of pages already seen. One writer
thread owns the DuckDB connection, so writes never stall the loop that feeds the workers.
Details are written in chunks as they arrive, so a sync that dies midway keeps what it fetched,
and the next one resumes without fetching it again.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from resources.commerce_api import (
    AuthenticationError,
    CommerceApiClient,
    CommerceApiError,
    ListedProduct,
    ProductDetail,
    RateLimitedError,
    SearchPage,
    percentile,
)
from resources.store import DELETED, CatalogStore, ListingWrite, SyncError, UpsertCounts

ALL_STATUS_TYPES = (
    "WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION", "DELETE",
)
# Until measured, assume a detail call takes this long (seconds) when sizing concurrency.
INITIAL_LATENCY_GUESS = 0.25
# Detail chunks queued for the writer before the loop waits for it (bounds memory).
MAX_PENDING_WRITES = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CATALOG_ZONE = ZoneInfo("Asia/Seoul")  # the API's date filters mean KST days


class SyncAborted(RuntimeError):
    """The sync cannot go on (listing failed, credentials refused). What it fetched is kept."""


@dataclass
class SyncReport:
    pages: int = 0
    listed: int = 0
    needs_detail: int = 0
    unchanged_skipped: int = 0
    deleted_changed: int = 0
    details_fetched: int = 0
    errors: list[SyncError] = field(default_factory=list)
    upsert: UpsertCounts = field(default_factory=UpsertCounts)
    list_fetch_seconds: float = 0.0
    detail_seconds: list[float] = field(default_factory=list)  # wire time, pacer waits excluded
    db_seconds: float = 0.0
    total_seconds: float = 0.0
    peak_concurrency: int = 0

    @property
    def detail_errors(self) -> int:
        return sum(1 for e in self.errors if e.api == "detail")

    @property
    def error_ratio(self) -> float:
        attempted = self.needs_detail + self.listed_bad_entries
        return (len(self.errors) / attempted) if attempted else 0.0

    @property
    def listed_bad_entries(self) -> int:
        return sum(1 for e in self.errors if e.api == "search")

    @property
    def changed_sku_ratio(self) -> float:
        return (self.needs_detail + self.deleted_changed) / self.listed if self.listed else 0.0

    def detail_percentile_ms(self, q: float) -> float | None:
        value = percentile(self.detail_seconds, q)
        return None if value is None else value * 1000


@dataclass(frozen=True)
class _DetailOutcome:
    origin_product_no: int
    detail: ProductDetail | None
    error: CommerceApiError | None


def detail_concurrency(rate_per_second: float, latency_seconds: float, ceiling: int) -> int:
    """Workers enough to keep the detail bucket busy: rate x latency in flight, plus slack."""
    needed = math.ceil(rate_per_second * latency_seconds * 1.5) + 1
    return max(1, min(ceiling, needed))


def products_needing_detail(
    products: Sequence[ListedProduct], ledger: dict[int, int], *, refetch_all: bool = False
) -> list[int]:
    """Live products whose detail is missing or older than the listing's modifiedDate.

    `ledger` is CatalogStore.detail_ledger(): the modifiedDate (epoch microseconds) each stored
    detail was fetched for. A DELETE listing needs none: the product is gone.
    """
    wanted = []
    for product in products:
        if product.status_type == DELETED:
            continue
        listed_us = _epoch_microseconds(product.modified_date)
        if refetch_all or listed_us is None or ledger.get(product.origin_product_no) != listed_us:
            wanted.append(product.origin_product_no)
    return wanted


def _epoch_microseconds(timestamp: str) -> int | None:
    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return None  # the detail is fetched rather than the date trusted
    if moment.tzinfo is None:
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _modified_after(product: ListedProduct, day: date) -> bool:
    try:
        return datetime.fromisoformat(product.modified_date).astimezone(CATALOG_ZONE).date() > day
    except (TypeError, ValueError):
        return False  # kept: the detail fetch and the store judge a bad date


def _is_fatal(error: CommerceApiError) -> bool:
    """Errors that would hit every product alike: stop instead of failing 1,000 calls."""
    if isinstance(error, AuthenticationError):
        return True
    if isinstance(error, RateLimitedError) and error.code == "GW.QUOTA_LIMIT":
        return True
    return error.status == 403


def run_sync(
    client: CommerceApiClient,
    store: CatalogStore,
    *,
    page_size: int = 500,
    status_types: Sequence[str] = ALL_STATUS_TYPES,
    modified_from: date | None = None,
    modified_to: date | None = None,
    max_concurrency: int = 32,
    concurrency: int | None = None,
    incremental: bool = True,
    flush_rows: int = 1000,
    flush_seconds: float = 5.0,
    run_id: str | None = None,
    log: Callable[[str], None] = lambda message: None,
    progress_every_seconds: float = 10.0,
    on_detail: Callable[[ProductDetail], None] | None = None,
    on_stored: Callable[[CatalogStore, list[int]], None] | None = None,
) -> SyncReport:
    """Sync the listed products into `store`; return what happened.

    `concurrency=None` sizes the detail workers from the pacing rate and measured latency (the
    default); an int fixes it (benchmarks compare both). `incremental=False` fetches every
    listed product's detail whatever its modifiedDate (a full refresh). `on_detail` sees each
    fetched detail as it arrives (it must not block: the loop feeds the workers); `on_stored` gets
    the product numbers of each chunk written, on the store's thread, after its commit. Fetched details are
    written every `flush_rows` rows or `flush_seconds`, whichever comes first: each write costs a
    transaction (~40-120 ms here, mostly fixed), and a sync killed outright loses at most one
    interval's details (an aborted one writes what it has).
    """
    report = SyncReport()
    started = time.perf_counter()
    pages: queue.Queue[SearchPage | BaseException | None] = queue.Queue(maxsize=8)
    stop_listing = threading.Event()

    # The search filters by whole KST days and needs both ends; a range open at the start (the
    # first partition holds every earlier day) is listed whole and cut here at `modified_to`.
    search_days = {"modified_from": modified_from, "modified_to": modified_to} if modified_from else {}
    cutoff = modified_to if modified_from is None else None

    def list_pages() -> None:
        try:
            for page in client.iter_search_pages(
                size=page_size, status_types=status_types, order_type="NO", **search_days,
            ):
                while not stop_listing.is_set():
                    try:
                        pages.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop_listing.is_set():
                    return
        except BaseException as exc:  # handed to the calling thread, which raises it
            pages.put(exc)
        finally:
            report.list_fetch_seconds = time.perf_counter() - started
            pages.put(None)

    lister = threading.Thread(target=list_pages, name="product-list", daemon=True)
    backlog: deque[int] = deque()
    in_flight: set[Future[_DetailOutcome]] = set()
    fetched: list[ProductDetail] = []
    last_flush = last_progress = time.perf_counter()
    listing_done = False
    fatal: BaseException | None = None

    def fetch_detail(origin_product_no: int) -> _DetailOutcome:
        try:
            return _DetailOutcome(origin_product_no, client.get_origin_product(origin_product_no), None)
        except CommerceApiError as exc:
            return _DetailOutcome(origin_product_no, None, exc)

    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
    # Read while the token and the first page are on their way.
    ledger = writer.submit(store.detail_ledger)
    pending_writes: deque[Future[tuple[UpsertCounts, float]]] = deque()
    pending_listings: deque[Future[tuple[ListingWrite, float]]] = deque()
    queued: set[int] = set()

    def write_details(chunk: list[ProductDetail]) -> tuple[UpsertCounts, float]:
        db_started = time.perf_counter()
        counts = store.apply_details(chunk)
        seconds = time.perf_counter() - db_started
        if on_stored is not None:
            on_stored(store, [detail.origin_product_no for detail in chunk])
        return counts, seconds

    def collect_writes(*, block: bool) -> None:
        while pending_writes and (block or pending_writes[0].done() or len(pending_writes) > MAX_PENDING_WRITES):
            counts, seconds = pending_writes.popleft().result()
            report.upsert += counts
            report.db_seconds += seconds

    def flush() -> None:
        nonlocal last_flush
        if fetched:
            pending_writes.append(writer.submit(write_details, list(fetched)))
            fetched.clear()
        last_flush = time.perf_counter()
        collect_writes(block=False)

    def collect_listing_writes(*, block: bool) -> None:
        while pending_listings and (block or pending_listings[0].done()):
            written, seconds = pending_listings.popleft().result()
            report.deleted_changed += len(written.deleted_changed)
            report.upsert += written.deleted_upsert
            report.db_seconds += seconds

    def write_listing(products: Sequence[ListedProduct]) -> tuple[ListingWrite, float]:
        db_started = time.perf_counter()
        written = store.write_listing(products)
        return written, time.perf_counter() - db_started

    def take_page(page: SearchPage) -> None:
        if cutoff is not None:
            page = replace(page, products=tuple(p for p in page.products if not _modified_after(p, cutoff)))
        report.pages += 1
        report.listed += len(page.products)
        for number, message in page.bad_entries:
            report.errors.append(SyncError(number, "search", None, "MALFORMED_ENTRY", message))
        # The writer stores the page while the workers already fetch its details; its detail
        # chunks queue behind it on the same thread, so they always find their listing.
        pending_listings.append(writer.submit(write_listing, page.products))
        wanted = products_needing_detail(page.products, ledger.result(), refetch_all=not incremental)
        wanted = [number for number in wanted if number not in queued]
        queued.update(wanted)
        report.needs_detail += len(wanted)
        backlog.extend(wanted)
        collect_listing_writes(block=False)

    lister.start()
    workers = concurrency if concurrency is not None else max_concurrency
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="product-detail") as pool:
        try:
            while True:
                # Pages first: they feed the backlog and cost nothing to take.
                while True:
                    try:
                        item = pages.get_nowait() if (in_flight or backlog) else pages.get(timeout=0.2)
                    except queue.Empty:
                        break
                    if item is None:
                        listing_done = True
                    elif isinstance(item, BaseException):
                        raise SyncAborted(f"listing products failed: {item}") from item
                    else:
                        take_page(item)
                    if in_flight or backlog:
                        break

                if concurrency is not None:
                    limit = concurrency
                else:
                    latency_p95 = client.stats.recent_latency_p95("detail")
                    limit = detail_concurrency(client.pacers["detail"].rate, latency_p95 or INITIAL_LATENCY_GUESS,
                                               max_concurrency)
                while backlog and len(in_flight) < limit:
                    in_flight.add(pool.submit(fetch_detail, backlog.popleft()))
                report.peak_concurrency = max(report.peak_concurrency, len(in_flight))

                if in_flight:
                    done, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
                    for future in done:
                        in_flight.discard(future)
                        outcome = future.result()
                        if outcome.detail is not None:
                            report.details_fetched += 1
                            fetched.append(outcome.detail)
                            if on_detail is not None:
                                on_detail(outcome.detail)
                        else:
                            error = outcome.error
                            assert error is not None
                            if _is_fatal(error):
                                raise SyncAborted(f"detail fetch cannot go on: {error}") from error
                            report.errors.append(
                                SyncError(outcome.origin_product_no, "detail", error.status, error.code, str(error))
                            )
                elif listing_done and not backlog:
                    break

                now = time.perf_counter()
                # In the tail (nothing left to ask for) every detail is written as it lands, so what
                # follows each write (on_stored) is done when the last call returns, not after.
                tail = listing_done and not backlog
                if fetched and (tail or len(fetched) >= flush_rows or now - last_flush >= flush_seconds):
                    flush()
                if now - last_progress >= progress_every_seconds:
                    last_progress = now
                    done_count = report.details_fetched + report.detail_errors
                    log(
                        f"sync: {report.listed} listed in {report.pages} page(s){'' if listing_done else ' so far'}, "
                        f"details {done_count}/{report.needs_detail} ({len(in_flight)} in flight, "
                        f"{report.detail_errors} error(s)), {now - started:.0f}s elapsed"
                    )
        except BaseException as exc:
            fatal = exc
            stop_listing.set()
            for future in in_flight:
                future.cancel()
            raise
        finally:
            # Keep every detail already fetched, even when aborting: the next sync resumes.
            try:
                if fatal is not None and in_flight:
                    finished, _ = wait(in_flight, timeout=30)
                    for future in finished:
                        if not future.cancelled() and future.result().detail is not None:
                            fetched.append(future.result().detail)  # type: ignore[arg-type]
                flush()
                collect_writes(block=True)
                collect_listing_writes(block=True)
            finally:
                writer.shutdown(wait=True)
                store.record_errors(run_id, report.errors)
                report.unchanged_skipped = report.listed - report.needs_detail - report.deleted_changed
                report.detail_seconds = client.stats.call_latency_seconds("detail")
                report.total_seconds = time.perf_counter() - started
    lister.join(timeout=5)
    return report
