"""The lister: the thread that pages through the search and hands the pages to the sync's loop.

Listing and detail calls use separate rate-limit buckets, so the lister runs ahead on its own
thread while the detail workers fetch the products of pages already handed over. Pages go through
a bounded queue, so a lister far ahead of the workers waits instead of holding the catalog.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from datetime import date

from resources.commerce_api import CommerceApiClient, SearchPage

from content_assets.sync.report import SyncReport

# The search pages by offset, so a product that enters or leaves the listed range while it is being
# listed shifts every later product by one place: one is listed twice or, worse, never. Edits move
# a product's modifiedDate to today, so within one listing the range (all statuses, by day) only
# grows (it reaches today) or only shrinks (it ends before today), and a change shows in
# totalElements. A listing whose totalElements moved is listed again, at most this many times in
# all, and the passes are merged.
MAX_LISTING_PASSES = 3


class Lister:
    """Lists in passes until one saw a steady totalElements; the loop takes the pages with take()."""

    def __init__(
        self, client: CommerceApiClient, report: SyncReport, started: float, *, page_size: int,
        status_types: Sequence[str], modified_from: date | None, modified_to: date | None, max_passes: int,
    ) -> None:
        self._client = client
        self._report = report  # the lister's thread keeps listing_passes and list_fetch_seconds
        self._started = started
        self._page_size = page_size
        self._status_types = status_types
        # The search filters by whole KST days and needs both ends; a range open at the start (the
        # first partition holds every earlier day) is listed whole, and cut at `modified_to` by the
        # page intake.
        self._search_days = {"modified_from": modified_from, "modified_to": modified_to} if modified_from else {}
        self._max_passes = max_passes
        self._pages: queue.Queue[SearchPage | BaseException | None] = queue.Queue(maxsize=8)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._list_pages, name="product-list", daemon=True)
        self.done = False  # take() handed over the end of the listing

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop listing: the lister drops the page it waits to hand over and ends."""
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout=timeout)

    def take(self, *, wait: bool) -> SearchPage | BaseException | None:
        """The next page, the exception listing raised (the caller raises it), or None at the end
        (then `done` is set). Raises queue.Empty when there is none (`wait`: within 0.2 s)."""
        item = self._pages.get(timeout=0.2) if wait else self._pages.get_nowait()
        if item is None:
            self.done = True
        return item

    def _list_pages(self) -> None:
        try:
            while self._report.listing_passes < self._max_passes:
                self._report.listing_passes += 1
                totals = self._list_pass()
                if totals is None or len(totals) <= 1:
                    return
        except BaseException as exc:  # handed to the calling thread, which raises it
            self._pages.put(exc)
        finally:
            self._report.list_fetch_seconds = time.perf_counter() - self._started
            self._pages.put(None)

    def _list_pass(self) -> set[int] | None:
        """One listing: the totalElements its pages reported, or None when told to stop."""
        totals: set[int] = set()
        for page in self._client.iter_search_pages(
            size=self._page_size, status_types=self._status_types, order_type="NO", **self._search_days,
        ):
            totals.add(page.total_elements)
            if not self._hand_over(page):
                return None
        return totals

    def _hand_over(self, page: SearchPage) -> bool:
        """Queue the page, waiting while the queue is full; False when told to stop."""
        while not self._stop.is_set():
            try:
                self._pages.put(page, timeout=0.2)
                break
            except queue.Full:
                continue
        return not self._stop.is_set()
