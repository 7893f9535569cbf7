"""The service-level objectives content-ops is held to, and how each is measured from an asset's
materialization metadata. The budgets live here and nowhere else.

The defaults are the seed performance plan's: a detail call's p95 under 500 ms, under 1% of calls
refused with 429, a sync that takes at most 1.1x the rate-limit floor (so 1,000 SKUs at 2 req/s
finish in under 10 minutes), 10k rows upserted in under 2 minutes, a package built in under 3 s
(10 s when it has a video to cut keyframes from).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Metadata = Mapping[str, Any]


@dataclass(frozen=True)
class SloBudgets:
    detail_fetch_p95_ms: float = 500.0
    api_429_ratio: float = 0.01
    sync_wall_over_floor: float = 1.1
    # What the floor does not count (a token, the first listing page, the last DuckDB write):
    # without it a sync of a handful of changed products, whose floor is ~0 s, could never pass.
    sync_fixed_allowance_seconds: float = 5.0
    upsert_10k_rows_seconds: float = 120.0
    # Below this many rows written, per-page transaction costs swamp the per-row cost and scaling
    # to 10k rows says nothing (3 rows in 0.5 s would "be" 1,700 s per 10k).
    upsert_min_rows: int = 1000
    package_build_p95_seconds: float = 3.0
    package_with_video_build_p95_seconds: float = 10.0
    # Regression checks: how many earlier runs make the baseline, and how much worse is a warning.
    regression_history_runs: int = 10
    regression_tolerance: float = 0.15


BUDGETS = SloBudgets()


@dataclass(frozen=True)
class Measurement:
    value: float | None  # None: nothing to measure in this materialization (e.g. no detail calls)
    threshold: float
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.value is None or self.value <= self.threshold

    @property
    def margin(self) -> float | None:
        """How far under the threshold (negative: over it)."""
        return None if self.value is None else round(self.threshold - self.value, 4)


@dataclass(frozen=True)
class Slo:
    name: str  # also the asset check's name
    asset: str
    description: str
    unit: str
    measure: Callable[[Metadata, SloBudgets], Measurement]


def _float(metadata: Metadata, key: str) -> float | None:
    value = metadata.get(key)
    return None if value is None else float(value)


def detail_fetch_p95(metadata: Metadata, budgets: SloBudgets) -> Measurement:
    # Wire time only: the asset records latency without the time a call waited on the pacer.
    return Measurement(_float(metadata, "detail_fetch_p95_ms"), budgets.detail_fetch_p95_ms)


def api_429_ratio(metadata: Metadata, budgets: SloBudgets) -> Measurement:
    by_api = metadata.get("api_requests_total") or {}
    total = sum(int(count) for by_status in by_api.values() for count in by_status.values())
    refused = int(metadata.get("api_429_total") or 0)
    return Measurement(round(refused / total, 4) if total else None, budgets.api_429_ratio,
                       f"{refused} of {total} requests")


def sync_wall_time(metadata: Metadata, budgets: SloBudgets) -> Measurement:
    floor = _float(metadata, "rate_limit_floor_seconds")
    wall = _float(metadata, "sync_total_seconds")
    if floor is None or wall is None:
        return Measurement(None, 0.0, "no sync timing recorded")
    threshold = round(budgets.sync_wall_over_floor * floor + budgets.sync_fixed_allowance_seconds, 3)
    return Measurement(wall, threshold, f"floor {floor:.1f}s for the calls made")


def upsert_10k_rows(metadata: Metadata, budgets: SloBudgets) -> Measurement:
    rows = int(metadata.get("rows_written") or 0)
    if rows < budgets.upsert_min_rows:
        return Measurement(None, budgets.upsert_10k_rows_seconds,
                           f"{rows} rows written, too few to scale to 10k (at least {budgets.upsert_min_rows})")
    return Measurement(_float(metadata, "upsert_seconds_per_10k_rows"), budgets.upsert_10k_rows_seconds,
                       f"{rows} rows written")


def package_build_p95(metadata: Metadata, budgets: SloBudgets) -> Measurement:
    # content_packages records one p95 over every package it built, so the video budget applies
    # to a run that cut keyframes from any video, the picture-only budget otherwise.
    videos = int(metadata.get("videos_with_keyframes") or 0)
    if videos:
        return Measurement(_float(metadata, "package_build_p95_seconds"),
                           budgets.package_with_video_build_p95_seconds, f"{videos} package(s) with a video")
    return Measurement(_float(metadata, "package_build_p95_seconds"), budgets.package_build_p95_seconds,
                       "no package with a video")


SLOS: tuple[Slo, ...] = (
    Slo("slo_detail_fetch_p95", "product_details", "Detail fetch p95 (wire time, pacer waits excluded)", "ms",
        detail_fetch_p95),
    Slo("slo_api_429_ratio", "product_details", "Share of API calls refused with 429", "ratio", api_429_ratio),
    Slo("slo_sync_wall_time", "products", "Sync wall time within 1.1x the rate-limit floor (+ fixed allowance)",
        "s", sync_wall_time),
    Slo("slo_upsert_10k_rows", "products", "DuckDB upsert time per 10k rows", "s", upsert_10k_rows),
    Slo("slo_package_build_p95", "content_packages", "Package build p95 (3 s; 10 s when videos were cut)", "s",
        package_build_p95),
)


@dataclass(frozen=True)
class RegressionMetric:
    key: str  # a metadata key of the asset
    higher_is_better: bool = False
    min_rows_written: int = 0  # compare only materializations that wrote at least this many rows

    def value(self, metadata: Metadata) -> float | None:
        if int(metadata.get("rows_written") or 0) < self.min_rows_written:
            return None
        return _float(metadata, self.key)


# What the regression checks compare with the median of earlier runs, per asset. Rates and
# percentiles, not totals: a run that syncs more products is not a slower run.
REGRESSION_METRICS: Mapping[str, tuple[RegressionMetric, ...]] = {
    "product_details": (RegressionMetric("detail_fetch_p95_ms"),),
    "products": (RegressionMetric("sync_efficiency", higher_is_better=True),
                 RegressionMetric("upsert_seconds_per_10k_rows", min_rows_written=BUDGETS.upsert_min_rows)),
    "content_packages": (RegressionMetric("package_build_p95_seconds"),),
}
