"""The issue's targets: which figure, which bound, and the baseline's figure to show beside ours."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
}


def lookup(report: Mapping[str, Any], path: str) -> Any:
    """`report["a"]["b"]` for path "a.b"; None when any part is missing."""
    node: Any = report
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@dataclass(frozen=True)
class Target:
    name: str
    figure: str  # path in latest.json
    op: str  # ">=", "<=", "=="
    bound: float | str  # a number, or the path of another figure ("sync_incremental.changed")
    baseline_figure: str | None = None  # the baseline client's figure, shown beside ours
    unit: str = ""
    note: str = ""
    full_only: bool = False  # measured by `make bench` only

    def bound_value(self, report: Mapping[str, Any]) -> float | None:
        if isinstance(self.bound, str):
            value = lookup(report, self.bound)
            return float(value) if isinstance(value, (int, float)) else None
        return float(self.bound)

    def evaluate(self, report: Mapping[str, Any]) -> dict[str, Any]:
        """{"status": "pass" | "miss" | "not run" | "error", "value", "bound", "baseline"}."""
        value = lookup(report, self.figure)
        bound = self.bound_value(report)
        baseline = lookup(report, self.baseline_figure) if self.baseline_figure else None
        section = lookup(report, self.figure.split(".")[0])
        if isinstance(section, Mapping) and "error" in section:
            status = "error"
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or bound is None or isinstance(value, float) and math.isnan(value):
            status = "not run"
        else:
            status = "pass" if _OPERATORS[self.op](float(value), bound) else "miss"
        return {
            "name": self.name, "figure": self.figure, "op": self.op,
            "bound": self.bound if isinstance(self.bound, str) else bound, "bound_value": bound,
            "value": value, "baseline": baseline, "status": status, "unit": self.unit, "note": self.note,
            "full_only": self.full_only,
        }


# The targets of the performance issue, restated as figures measured in one run: ratios where a
# ratio exists (our upsert over a bare insert of the same rows, ours over the baseline client's),
# absolute seconds only where nothing beside them could stand for the machine.
TARGETS: tuple[Target, ...] = (
    Target("Full sync 1,000 @ 20 req/s: efficiency", "sync_full.efficiency", ">=", 0.97,
           "sync_full_baseline.efficiency"),
    Target("Full sync 1,000 @ 20 req/s: 429 ratio", "sync_full.ratio_429", "<=", 0,
           "sync_full_baseline.ratio_429"),
    Target("Full sync 1,000 @ 2 req/s: efficiency", "sync_full_2rps.efficiency", ">=", 0.99,
           "sync_full_2rps_baseline.efficiency", full_only=True),
    Target("Full sync 1,000 @ 2 req/s: 429 ratio", "sync_full_2rps.ratio_429", "<=", 0,
           "sync_full_2rps_baseline.ratio_429", full_only=True),
    Target("Full sync 1,000 @ 2 req/s, buckets refilled by whole seconds: 429 ratio",
           "sync_full_2rps_whole_seconds.ratio_429", "<=", 0, full_only=True),
    Target("429 responses vs baseline (same run)", "vs_baseline.responses_429_ratio", "<=", 0.01, unit="x",
           note="ours / the baseline's median run"),
    Target("API calls vs baseline (same run)", "vs_baseline.calls_ratio", "<=", 0.85, unit="x",
           note="ours / the baseline's median run"),
    Target("Efficiency vs the baseline's best run", "vs_baseline.efficiency_vs_best_baseline", ">=", 1.0, unit="x",
           note="ours / the best of its runs side by side"),
    Target("Incremental 5% of 1,000: detail calls = changed", "sync_incremental.detail_calls", "==",
           "sync_incremental.changed"),
    Target("Incremental 5% of 1,000: efficiency", "sync_incremental.efficiency", ">=", 0.9),
    Target("Upsert 10k rows vs a bare INSERT of them", "upsert.vs_bare_insert_10k", "<=", 2.0, unit="x",
           note="medians, arms alternating"),
    Target("Upsert 1M rows vs a bare INSERT of them", "upsert.vs_bare_insert_1m", "<=", 2.0, unit="x",
           note="medians, arms alternating"),
    Target("No-change 1M upsert writes nothing", "upsert.noop_1m_rows_written", "==", 0, unit="rows"),
    Target("Batch vs row-by-row upsert", "upsert.batch_vs_row_speedup", ">=", 100, unit="x", note="seed plan: 3x"),
    Target("10-image package build p95", "packages.build_p95_seconds", "<=", 0.3, unit="s", note="seed plan: 3 s"),
    Target("Unchanged package rebuild writes nothing", "packages.unchanged_rebuild_bytes_written", "==", 0,
           unit="bytes"),
    Target("End to end 1,000 through Dagster: overhead", "e2e.overhead_seconds", "<=", 3.0, unit="s",
           note="wall minus the API floor"),
    Target("End to end, beside a CPU hog: overhead", "e2e.overhead_busy_seconds", "<=", 3.0, unit="s",
           note="the same run with the other core kept busy"),
    Target("100,000-product sync: peak RSS", "memory.peak_rss_mb", "<=", 400, unit="MB"),
    Target("1,000,000-product sync: peak RSS", "memory.peak_rss_1m_mb", "<=", 600, unit="MB", full_only=True),
    Target("20 stores in parallel @ 2 req/s: aggregate efficiency", "stores.parallel.aggregate_efficiency", ">=",
           0.95, note="sum of floors / (20 x wall)", full_only=True),
    Target("20 stores in parallel @ 2 req/s: 429 responses", "stores.parallel.responses_429", "==", 0,
           full_only=True),
    Target("5 sellers of one app, one after another: wall / shared floor", "stores.sellers_sequential.wall_over_floor",
           "<=", 1.05, unit="x", full_only=True),
    Target("5 sellers of one app, in parallel: wall / shared floor", "stores.sellers_parallel.wall_over_floor", "<=",
           1.05, unit="x", full_only=True),
    Target("5 sellers of one app: 429 responses", "stores.sellers_responses_429", "==", 0,
           note="both passes", full_only=True),
    Target("20 stores, two workers, catalog on Postgres: aggregate efficiency",
           "stores_postgres.parallel.aggregate_efficiency", ">=", 0.95, "stores_duckdb_workers.parallel.aggregate_efficiency",
           note="beside it: the same on DuckDB files, side by side", full_only=True),
    Target("20 stores, two workers, catalog on Postgres: 429 responses", "stores_postgres.responses_429", "==", 0,
           full_only=True),
    Target("Postgres upsert 10k vs a bare COPY of the rows", "postgres.upsert.10000.pg_upsert_vs_bare_copy", "<=", 2.0,
           unit="x", full_only=True),
    Target("Postgres upsert 1M vs a bare COPY of the rows", "postgres.upsert.1000000.pg_upsert_vs_bare_copy", "<=",
           2.0, unit="x", full_only=True),
)


def evaluate_all(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [target.evaluate(report) for target in TARGETS]
