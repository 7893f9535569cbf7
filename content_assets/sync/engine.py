"""The catalog sync: list every page, fetch details only for new or changed products, upsert.

Listing and detail calls use separate rate-limit buckets, so they overlap: a lister thread pages
through the search while detail workers fetch the products of pages already seen. One writer
thread owns the DuckDB connection, so writes never stall the loop that feeds the workers.
Details are written in chunks as they arrive, so a sync that dies midway keeps what it fetched,
and the next one resumes without fetching it again.

A product that fails for a reason retrying will not fix (404 while listed, a detail or listing
entry that breaks the contract) is quarantined (resources/store/quarantine.py): later syncs do not
fetch it until its listing changes or its backoff passes, and its failures no longer count
against their error threshold, which judges only new failures, so an outage still fails a run.
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
    ClientRequestError,
    CommerceApiClient,
    CommerceApiError,
    ListedProduct,
    MalformedResponseError,
    NotFoundError,
    ProductDetail,
    RateLimitedError,
    SearchPage,
    percentile,
)
from resources.store import (
    DELETED,
    CatalogStore,
    ListingWrite,
    QuarantineFailure,
    QuarantineLedger,
    SyncError,
    UpsertCounts,
)
from resources.store.quarantine import EMPTY_LEDGER

ALL_STATUS_TYPES = (
    "WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION", "DELETE",
)
# Until measured, assume a detail call takes this long (seconds) when sizing concurrency.
INITIAL_LATENCY_GUESS = 0.25
# Detail chunks queued for the writer before the loop waits for it (bounds memory).
MAX_PENDING_WRITES = 4
# The search pages by offset, so a product that enters or leaves the listed range while it is being
# listed shifts every later product by one place: one is listed twice or, worse, never. Edits move
# a product's modifiedDate to today, so within one listing the range (all statuses, by day) only
# grows (it reaches today) or only shrinks (it ends before today), and a change shows in
# totalElements. A listing whose totalElements moved is listed again, at most this many times in
# all, and the passes are merged.
MAX_LISTING_PASSES = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CATALOG_ZONE = ZoneInfo("Asia/Seoul")  # the API's date filters mean KST days
# A run fails when more than this share of what it attempted failed anew (asset config overrides).
DEFAULT_MAX_ERROR_RATIO = 0.05


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
    skipped_quarantined: int = 0  # listed, held back by the quarantine: not fetched
    quarantine_failures: list[QuarantineFailure] = field(default_factory=list)  # failed for good this run
    repeat_failures: int = 0  # of those, products already quarantined when the run started
    quarantined_new: int = 0  # products quarantined by this run that were not before
    quarantine_held: bool = True  # False: the run was judged failed, its failures are retried next run
    listing_passes: int = 0  # 1, or more when the catalog changed under the listing (MAX_LISTING_PASSES)
    listing_repeats: int = 0  # entries of a product already listed by this sync (merged, not counted)

    @property
    def detail_errors(self) -> int:
        return sum(1 for e in self.errors if e.api == "detail")

    @property
    def new_failures(self) -> int:
        """Failures that count against the threshold: all but products already quarantined
        failing for good again (transient errors always count: an outage must fail the run)."""
        return len(self.errors) - self.repeat_failures

    @property
    def error_ratio(self) -> float:
        attempted = self.needs_detail + self.listed_bad_entries
        return (self.new_failures / attempted) if attempted else 0.0

    def exceeds(self, max_error_ratio: float) -> bool:
        """The run is judged failed: too many new failures among what it attempted."""
        return self.error_ratio > max_error_ratio

    def add_failure(self, error: SyncError, *, permanent: bool, known: frozenset[int]) -> None:
        self.errors.append(error)
        if permanent and error.origin_product_no is not None:
            self.quarantine_failures.append(QuarantineFailure(
                error.origin_product_no, error.api, error.status, error.code, error.message))
            if error.origin_product_no in known:
                self.repeat_failures += 1

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
    products: Sequence[ListedProduct], ledger: dict[int, int], *, refetch_all: bool = False,
    quarantine: QuarantineLedger = EMPTY_LEDGER,
) -> list[int]:
    """Live products whose detail is missing or older than the listing's modifiedDate.

    `ledger` is CatalogStore.detail_ledger(): the modifiedDate (epoch microseconds) each stored
    detail was fetched for. A DELETE listing needs none: the product is gone. Products the
    quarantine holds back are left out (a full refresh, `refetch_all`, tries them again).
    """
    return _plan_details(products, ledger, refetch_all, quarantine)[0]


def _plan_details(
    products: Sequence[ListedProduct], ledger: dict[int, int], refetch_all: bool, quarantine: QuarantineLedger,
) -> tuple[list[int], int]:
    """products_needing_detail(), and how many products the quarantine held back."""
    wanted, held = [], 0
    for product in products:
        if product.status_type == DELETED:
            continue
        listed_us = _epoch_microseconds(product.modified_date)
        if not (refetch_all or listed_us is None or ledger.get(product.origin_product_no) != listed_us):
            continue
        if not refetch_all and quarantine.holds(product.origin_product_no, listed_us):
            held += 1
        else:
            wanted.append(product.origin_product_no)
    return wanted, held


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


def _is_permanent(error: CommerceApiError) -> bool:
    """Failures retrying will not fix: quarantined. (Fatal ones are handled first; 5xx, 429 and
    transport errors that outlasted the retries are transient, and count as errors.)"""
    return isinstance(error, NotFoundError | MalformedResponseError | ClientRequestError)


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
    max_error_ratio: float = DEFAULT_MAX_ERROR_RATIO,
    now: datetime | None = None,
    max_listing_passes: int = MAX_LISTING_PASSES,
) -> SyncReport:
    """Sync the listed products into `store`; return what happened.

    `concurrency=None` sizes the detail workers from the pacing rate and measured latency (the
    default); an int fixes it (benchmarks compare both). `incremental=False` fetches every
    listed product's detail whatever its modifiedDate (a full refresh). `on_detail` sees each
    fetched detail as it arrives (it must not block: the loop feeds the workers); `on_stored` gets
    the product numbers of each chunk written, on the store's thread, after its commit. Fetched details are
    written every `flush_rows` rows or `flush_seconds`, whichever comes first: each write costs a
    transaction (~40-120 ms here, mostly fixed), and a sync killed outright loses at most one
    interval's details (an aborted one writes what it has). Products that fail for good are
    quarantined at the end, held back from later syncs unless the run passes `max_error_ratio` (or
    aborts): then they are tried again next time. `now` is the run's moment for the quarantine's
    backoff (tests set it). A listing that the catalog changed under is listed again, up to
    `max_listing_passes` passes in all (see MAX_LISTING_PASSES).
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
            while report.listing_passes < max_listing_passes:
                report.listing_passes += 1
                totals: set[int] = set()
                for page in client.iter_search_pages(
                    size=page_size, status_types=status_types, order_type="NO", **search_days,
                ):
                    totals.add(page.total_elements)
                    while not stop_listing.is_set():
                        try:
                            pages.put(page, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    if stop_listing.is_set():
                        return
                if len(totals) <= 1:
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
    moment = now or datetime.now(UTC)
    quarantined = writer.submit(store.quarantine_ledger, moment)
    pending_writes: deque[Future[tuple[UpsertCounts, float]]] = deque()
    pending_listings: deque[Future[tuple[ListingWrite, float]]] = deque()
    queued: set[int] = set()
    listed: set[int] = set()  # products this sync has listed
    bad_listed: set[object] = set()  # originProductNo of the listing entries it could not read

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
        # A later pass lists products again: their listing is written again (it may be newer),
        # but each product is counted, planned and failed once.
        fresh = [p for p in page.products if p.origin_product_no not in listed]
        listed.update(p.origin_product_no for p in fresh)
        report.listed += len(fresh)
        report.listing_repeats += len(page.products) - len(fresh)
        for number, message in page.bad_entries:
            if number is not None and number in bad_listed:
                continue
            bad_listed.add(number)
            report.add_failure(SyncError(number, "search", None, "MALFORMED_ENTRY", message),
                               permanent=True, known=quarantined.result().known)
        # The writer stores the page while the workers already fetch its details; its detail
        # chunks queue behind it on the same thread, so they always find their listing.
        pending_listings.append(writer.submit(write_listing, page.products))
        wanted, held = _plan_details(fresh, ledger.result(), not incremental, quarantined.result())
        report.skipped_quarantined += held
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
                            report.add_failure(
                                SyncError(outcome.origin_product_no, "detail", error.status, error.code, str(error)),
                                permanent=_is_permanent(error), known=quarantined.result().known,
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
                report.quarantine_held = fatal is None and not report.exceeds(max_error_ratio)
                report.quarantined_new = store.record_quarantine(
                    report.quarantine_failures, hold=report.quarantine_held, now=moment)
                report.unchanged_skipped = (report.listed - report.needs_detail - report.deleted_changed
                                            - report.skipped_quarantined)
                report.detail_seconds = client.stats.call_latency_seconds("detail")
                report.total_seconds = time.perf_counter() - started
    lister.join(timeout=5)
    return report
