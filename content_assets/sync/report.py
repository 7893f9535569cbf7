"""What a sync did, and whether it failed: the error threshold judges only new failures.

Products already quarantined that fail for good again do not count against the threshold
(`new_failures`); transient errors always do, so an outage still fails a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from resources.commerce_api import percentile
from resources.store import QuarantineFailure, SyncError, UpsertCounts


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
    detail_seconds: Sequence[float] = field(default_factory=list)  # wire time, pacer waits excluded
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
