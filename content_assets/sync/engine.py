"""The catalog sync: list every page, fetch details only for new or changed products, upsert.

Listing and detail calls use separate rate-limit buckets, so they overlap: a lister thread
(listing.py) pages through the search while detail workers (dispatcher.py) fetch the products of
pages already seen (page_intake.py plans them, plan.py). One writer thread owns the DuckDB
connection (store_writer.py), so writes never stall the loop that feeds the workers. Details are
written in chunks as they arrive, so a sync that dies midway keeps what it fetched, and the next
one resumes without fetching it again. This module is that loop, and run_sync, which wires the
layers together and, however the sync ends, writes what was fetched and records what failed.

A product that fails for a reason retrying will not fix (404 while listed, a detail or listing
entry that breaks the contract) is quarantined (resources/store/quarantine.py): later syncs do not
fetch it until its listing changes or its backoff passes, and its failures no longer count
against their error threshold, which judges only new failures, so an outage still fails a run.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from resources.commerce_api import CommerceApiClient, ProductDetail
from resources.store import CatalogStore, SyncError

from content_assets.sync.dispatcher import DetailDispatcher, DetailOutcome, is_fatal, is_permanent
from content_assets.sync.listing import MAX_LISTING_PASSES, Lister
from content_assets.sync.page_intake import PageIntake
from content_assets.sync.report import SyncReport
from content_assets.sync.store_writer import StoreWriter

ALL_STATUS_TYPES = (
    "WAIT", "SALE", "OUTOFSTOCK", "UNADMISSION", "REJECTION", "SUSPENSION", "CLOSE", "PROHIBITION", "DELETE",
)
# A run fails when more than this share of what it attempted failed anew (asset config overrides).
DEFAULT_MAX_ERROR_RATIO = 0.05


class SyncAborted(RuntimeError):
    """The sync cannot go on (listing failed, credentials refused). What it fetched is kept."""


class _SyncLoop:
    """The loop thread: takes the pages, keeps the workers busy, lands their outcomes, flushes."""

    def __init__(
        self, report: SyncReport, lister: Lister, intake: PageIntake, dispatcher: DetailDispatcher,
        writer: StoreWriter, *, started: float, on_detail: Callable[[ProductDetail], None] | None,
        log: Callable[[str], None], progress_every_seconds: float,
    ) -> None:
        self._report, self._lister, self._intake = report, lister, intake
        self._dispatcher, self._writer = dispatcher, writer
        self._started = started
        self._on_detail = on_detail
        self._log = log
        self._progress_every_seconds = progress_every_seconds
        self._last_progress = time.perf_counter()

    def run(self) -> None:
        report, dispatcher = self._report, self._dispatcher
        while True:
            self._take_pages()
            report.peak_concurrency = max(report.peak_concurrency, dispatcher.fill())
            if dispatcher.in_flight:
                for outcome in dispatcher.take(timeout=0.2):
                    self._land(outcome)
            elif self._lister.done and not dispatcher.has_backlog:
                return
            now = time.perf_counter()
            # In the tail (nothing left to ask for) every detail is written as it lands, and in
            # the last flush interval writes come often (StoreWriter's ENDING_FLUSH_SECONDS), so
            # what follows each write (on_stored) is done when the last call returns, not after.
            ending = self._lister.done and dispatcher.seconds_left() < self._writer.flush_seconds
            self._writer.flush_if_due(now, tail=self._lister.done and not dispatcher.has_backlog, ending=ending)
            if now - self._last_progress >= self._progress_every_seconds:
                self._last_progress = now
                self._log_progress(now)

    def _take_pages(self) -> None:
        """Pages first: they feed the backlog and cost nothing to take, while the writer keeps up
        with their listings (else the lister waits, its queue full, and memory stays bounded).
        Once the listing has ended there is nothing to wait for: waiting for a page then only
        held the loop 0.2 s after the last detail landed, at the end of every sync."""
        while not self._lister.done:
            if not self._writer.room_for_listing(wait=not self._dispatcher.busy):
                return
            try:
                item = self._lister.take(wait=not self._dispatcher.busy)
            except queue.Empty:
                return
            if isinstance(item, BaseException):
                raise SyncAborted(f"listing products failed: {item}") from item
            if item is not None:
                self._intake.take(item)
            if self._dispatcher.busy:
                return

    def _land(self, outcome: DetailOutcome) -> None:
        if outcome.detail is not None:
            self._report.details_fetched += 1
            self._writer.add([outcome.detail])
            if self._on_detail is not None:
                self._on_detail(outcome.detail)
            return
        error = outcome.error
        assert error is not None
        if is_fatal(error):
            raise SyncAborted(f"detail fetch cannot go on: {error}") from error
        self._report.add_failure(
            SyncError(outcome.origin_product_no, "detail", error.status, error.code, str(error)),
            permanent=is_permanent(error), known=self._writer.quarantine().known,
        )

    def _log_progress(self, now: float) -> None:
        report = self._report
        done_count = report.details_fetched + report.detail_errors
        self._log(
            f"sync: {report.listed} listed in {report.pages} page(s){'' if self._lister.done else ' so far'}, "
            f"details {done_count}/{report.needs_detail} ({self._dispatcher.in_flight} in flight, "
            f"{report.detail_errors} error(s)), {now - self._started:.0f}s elapsed"
        )


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
    `max_listing_passes` passes in all (see MAX_LISTING_PASSES in listing.py).
    """
    report = SyncReport()
    started = time.perf_counter()
    lister = Lister(client, report, started, page_size=page_size, status_types=status_types,
                    modified_from=modified_from, modified_to=modified_to, max_passes=max_listing_passes)
    moment = now or datetime.now(UTC)
    writer = StoreWriter(store, report, moment=moment, flush_rows=flush_rows, flush_seconds=flush_seconds,
                         on_stored=on_stored)
    fatal: BaseException | None = None
    lister.start()
    with DetailDispatcher(client, concurrency=concurrency, max_concurrency=max_concurrency) as dispatcher:
        intake = PageIntake(report, writer, dispatcher, modified_from=modified_from, modified_to=modified_to,
                            refetch_all=not incremental)
        try:
            _SyncLoop(report, lister, intake, dispatcher, writer, started=started, on_detail=on_detail, log=log,
                      progress_every_seconds=progress_every_seconds).run()
        except BaseException as exc:
            fatal = exc
            lister.stop()
            dispatcher.cancel()
            raise
        finally:
            # Keep every detail already fetched, even when aborting: the next sync resumes.
            try:
                if fatal is not None:
                    writer.add(dispatcher.drain(timeout=30))
                writer.finish()
            finally:
                writer.shutdown()
                _record(report, client, store, run_id=run_id, aborted=fatal is not None,
                        max_error_ratio=max_error_ratio, moment=moment, started=started)
    lister.join(timeout=5)
    return report


def _record(
    report: SyncReport, client: CommerceApiClient, store: CatalogStore, *, run_id: str | None,
    aborted: bool, max_error_ratio: float, moment: datetime, started: float,
) -> None:
    """Record the run's errors and its quarantine (held unless it aborted or failed), finish the report."""
    store.record_errors(run_id, report.errors)
    report.quarantine_held = not aborted and not report.exceeds(max_error_ratio)
    report.quarantined_new = store.record_quarantine(
        report.quarantine_failures, hold=report.quarantine_held, now=moment)
    report.unchanged_skipped = (report.listed - report.needs_detail - report.deleted_changed
                                - report.skipped_quarantined)
    report.detail_seconds = client.stats.call_latency_seconds("detail")
    report.total_seconds = time.perf_counter() - started
