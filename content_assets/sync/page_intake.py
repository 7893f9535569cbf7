"""The page intake: each listed page, on the loop's thread, is cut, counted, stored and planned.

A later listing pass lists products again: their listing is written again (it may be newer), but
each product is counted, planned and failed once. A listing entry the client could not read is a
failure of its product, quarantined like a detail that breaks the contract.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from resources.commerce_api import ListedProduct, SearchPage
from resources.store import NumberSet, SyncError

from content_assets.sync.dispatcher import DetailDispatcher
from content_assets.sync.plan import modified_after, plan_details
from content_assets.sync.report import SyncReport
from content_assets.sync.store_writer import StoreWriter


class PageIntake:
    """Takes the lister's pages: writes each page's listing, hands its wanted details to the dispatcher."""

    def __init__(
        self, report: SyncReport, writer: StoreWriter, dispatcher: DetailDispatcher, *,
        modified_from: date | None, modified_to: date | None, refetch_all: bool,
    ) -> None:
        self._report = report
        self._writer = writer
        self._dispatcher = dispatcher
        # A range open at the start is listed whole (see Lister) and cut here at `modified_to`.
        self._cutoff = modified_to if modified_from is None else None
        self._refetch_all = refetch_all
        self._queued = NumberSet()
        self._listed = NumberSet()  # products this sync has listed
        self._bad_listed: set[object] = set()  # originProductNo of the listing entries it could not read

    def take(self, page: SearchPage) -> None:
        if self._cutoff is not None:
            cutoff = self._cutoff
            page = replace(page, products=tuple(p for p in page.products if not modified_after(p, cutoff)))
        self._report.pages += 1
        fresh = self._first_listed(page)
        self._fail_bad_entries(page)
        # The writer stores the page while the workers already fetch its details; its detail
        # chunks queue behind it on the same thread, so they always find their listing.
        self._writer.write_listing(page.products)
        self._plan(fresh)
        self._writer.collect_listing_writes(block=False)

    def _first_listed(self, page: SearchPage) -> list[ListedProduct]:
        """The page's products this sync had not listed yet (counted); the others are repeats."""
        seen = self._listed.contains([p.origin_product_no for p in page.products]).tolist()
        fresh = [p for p, listed in zip(page.products, seen, strict=True) if not listed]
        self._listed.add(p.origin_product_no for p in fresh)
        self._report.listed += len(fresh)
        self._report.listing_repeats += len(page.products) - len(fresh)
        return fresh

    def _fail_bad_entries(self, page: SearchPage) -> None:
        for number, message in page.bad_entries:
            if number is not None and number in self._bad_listed:
                continue
            self._bad_listed.add(number)
            self._report.add_failure(SyncError(number, "search", None, "MALFORMED_ENTRY", message),
                                     permanent=True, known=self._writer.quarantine().known)

    def _plan(self, fresh: list[ListedProduct]) -> None:
        wanted, held = plan_details(fresh, self._writer.ledger(), self._refetch_all, self._writer.quarantine())
        self._report.skipped_quarantined += held
        queued = self._queued.contains(wanted).tolist()
        wanted = [number for number, was in zip(wanted, queued, strict=True) if not was]
        self._queued.add(wanted)
        self._report.needs_detail += len(wanted)
        self._dispatcher.enqueue(wanted)
