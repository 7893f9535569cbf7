"""Scenario "drift": the seller edits and deletes products while a sync lists them page by page.

The search pages by offset, so a product that leaves the listed range mid-listing moves every later
product one place up (one of them is never listed) and one that enters it moves them down (one is
listed twice). Edits move a product's modifiedDate to today, so two ranges show both:
- "shrinking": every day up to yesterday (a past partition, a backfill): edited products leave it;
- "growing": from a middle day to today: edited products from before that day enter it.

After each search answer of the first pass, the drifter edits a few products (and deletes one now
and then) that change the range's membership. Then the sync must have listed and fetched every
product that stayed in the range, each detail once, and one whole-catalog sync after it must leave
the table equal to the catalog. A control run of the shrinking case with one listing pass shows
that the drift really skips products when nothing merges the passes.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer
from commerce_emulator.kst import kst_day_number, now_ms
from content_assets.sync.engine import run_sync
from content_assets.sync.report import SyncReport
from resources.commerce_api import CommerceApiClient
from resources.store import DuckDBStore

from . import invariants
from .result import ScenarioResult

_EPOCH_DAY = date(1970, 1, 1)
SEARCH_RATE = 5.0  # requests/s: a burst of 10 pages, then one every 0.2 s


@dataclass(frozen=True)
class DriftPlan:
    products: int
    page_size: int
    edits_per_page: int = 3
    delete_every: int = 4  # one of the edits after every 4th page is a delete
    rate: float = 1000.0
    seed: int = 23


LONG = DriftPlan(products=2000, page_size=50)
SHORT = DriftPlan(products=400, page_size=25)


@dataclass(frozen=True)
class Case:
    name: str
    first_day: date
    last_day: date
    movers: list[int]  # products whose edit changes the range's membership
    in_range: set[int]  # products in the range when the sync starts


def run(short: bool, workdir: Path) -> ScenarioResult:
    plan = SHORT if short else LONG
    result = ScenarioResult("drift")
    skipped_single_pass = None
    for case_name, passes in (("shrinking", None), ("growing", None), ("shrinking", 1)):
        with EmulatorServer(EmulatorConfig(products=plan.products, seed=plan.seed, rate=plan.rate, port=0)) as server:
            case = _case(server, case_name)
            database = DuckDBStore(database_path=str(workdir / f"{case_name}-{passes or 'merged'}.duckdb"))
            drifter = _Drifter(server, case, plan)
            fetched: list[int] = []
            drifter.start()
            try:
                report = _sync(server, database, plan, case, passes, fetched)
            finally:
                drifter.stop()
            stayed = case.in_range - drifter.touched
            with database.connect() as store:
                stored = set(invariants.stored_versions(store.con))
            skipped = sorted(stayed - stored)
            if passes == 1:
                skipped_single_pass = len(skipped)
                continue
            fetched_twice = len(fetched) - len(set(fetched))
            prefix = case.name
            result.figures.update({
                f"{prefix}_pages": report.pages, f"{prefix}_listing_passes": report.listing_passes,
                f"{prefix}_edited": drifter.edited, f"{prefix}_deleted": drifter.deleted,
                f"{prefix}_skipped": len(skipped), f"{prefix}_listed_twice_merged": report.listing_repeats,
                f"{prefix}_fetched_twice": fetched_twice,
            })
            result.check(drifter.edited > 0, f"{prefix}: the drifter edited nothing (the listing ended first)")
            result.check(not skipped, f"{prefix}: {len(skipped)} product(s) in the range all along were never "
                                      f"listed or fetched, e.g. {skipped[:5]}")
            result.check(fetched_twice == 0, f"{prefix}: {fetched_twice} detail(s) fetched twice")
            _converge(server, database, plan, result, prefix)
    result.figures["skipped_with_one_listing_pass"] = skipped_single_pass
    result.check(bool(skipped_single_pass), "the control run with one listing pass skipped nothing: the drift "
                                            "did not shift any page, so the scenario proves nothing")
    return result


def _case(server: EmulatorServer, name: str) -> Case:
    """The range of days and the products whose edit moves them across its edge."""
    today = kst_day_number(now_ms())
    products = [p for p in server.catalog.products if not p.is_deleted]
    days = sorted(kst_day_number(p.modified_date_ms) for p in products)
    if name == "shrinking":
        first, last = days[0], today - 1
        movers = [p.origin_product_no for p in products if kst_day_number(p.modified_date_ms) <= last]
    else:
        first, last = days[len(days) // 2], today
        movers = [p.origin_product_no for p in products if kst_day_number(p.modified_date_ms) < first]
    in_range = {p.origin_product_no for p in products if first <= kst_day_number(p.modified_date_ms) <= last}
    return Case(name, _EPOCH_DAY + timedelta(days=first), _EPOCH_DAY + timedelta(days=last), movers, in_range)


class _Drifter(threading.Thread):
    """Edits `edits_per_page` movers after each search answer of the first listing pass."""

    def __init__(self, server: EmulatorServer, case: Case, plan: DriftPlan) -> None:
        super().__init__(name="chaos-drifter", daemon=True)
        self.server, self.case, self.plan = server, case, plan
        self.rng = random.Random(plan.seed)
        self.pool = list(case.movers)
        self.touched: set[int] = set()
        self.edited = self.deleted = 0
        self._finished = threading.Event()
        first_pass_pages = -(-len(case.in_range) // plan.page_size)
        self.pages_to_drift = max(0, first_pass_pages - 1)

    def run(self) -> None:
        answered_before = 0
        while answered_before < self.pages_to_drift and not self._finished.wait(0.002):
            answered = sum(self.server.stats()["requests"].get("search", {}).values())
            for page in range(answered_before + 1, min(answered, self.pages_to_drift) + 1):
                self._drift(page)
            answered_before = max(answered_before, answered)

    def _drift(self, page: int) -> None:
        chosen = [self.pool.pop(self.rng.randrange(len(self.pool)))
                  for _ in range(min(self.plan.edits_per_page, len(self.pool)))]
        if not chosen:
            return
        self.touched.update(chosen)
        if page % self.plan.delete_every == 0:
            self.server.delete(chosen[:1])
            self.deleted += 1
            chosen = chosen[1:]
        if chosen:
            self.server.modify(origin_product_nos=chosen)
            self.edited += len(chosen)

    def stop(self) -> None:
        self._finished.set()
        self.join(timeout=10)


def _client(server: EmulatorServer, plan: DriftPlan) -> CommerceApiClient:
    return CommerceApiClient(base_url=server.base_url, client_id=DEFAULT_CLIENT_ID,
                             client_secret=DEFAULT_CLIENT_SECRET, initial_rate_per_second=plan.rate)


def _sync(server: EmulatorServer, database: DuckDBStore, plan: DriftPlan, case: Case,
          passes: int | None, fetched: list[int]) -> SyncReport:
    """The drifting sync of the case's range; `fetched` gets the number of every detail it fetched.
    The search is paced at `SEARCH_RATE` so that the drifter's edits land between its pages."""
    server.set_rate(SEARCH_RATE, api="search")
    options = {} if passes is None else {"max_listing_passes": passes}
    with _client(server, plan) as client, database.connect() as store:
        return run_sync(client, store, page_size=plan.page_size, modified_from=case.first_day,
                        modified_to=case.last_day, on_detail=lambda d: fetched.append(d.origin_product_no),
                        **options)


def _converge(server: EmulatorServer, database: DuckDBStore, plan: DriftPlan, result: ScenarioResult,
              prefix: str) -> None:
    """One whole-catalog sync after the drift: the table is the catalog, version for version."""
    server.set_rate(plan.rate, api="search")
    with _client(server, plan) as client, database.connect() as store:
        run_sync(client, store, page_size=500)
        stored = dict(store.con.execute(
            "SELECT origin_product_no, (status_type, epoch_ms(modified_date)) FROM products").fetchall())
        duplicates = sum(invariants.duplicate_rows(store.con).values())
    behind = sorted(p.origin_product_no for p in server.catalog.products
                    if not _current(stored.get(p.origin_product_no), p.is_deleted, p.modified_date_ms))
    result.figures[f"{prefix}_behind_after_next_sync"] = len(behind)
    result.check(not behind, f"{prefix}: {len(behind)} product(s) not at their current version after the next "
                             f"whole-catalog sync, e.g. {behind[:5]}")
    result.check(duplicates == 0, f"{prefix}: {duplicates} duplicate row(s) by key")


def _current(row: tuple[str, int] | None, deleted: bool, modified_ms: int) -> bool:
    """A live product is stored at its current version; a deleted one, if it was ever stored, reads DELETE."""
    if deleted:
        return row is None or row[0] == "DELETE"
    return row is not None and row[0] != "DELETE" and row[1] == modified_ms
