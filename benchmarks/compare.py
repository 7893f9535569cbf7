"""Compare a report with the committed baseline.json: flag every tracked figure more than 15% worse.

A figure that has a ratio measured in the same run stands for it: efficiency (floor over wall)
rather than a sync's seconds, the upsert over a bare insert rather than its seconds, ours over the
baseline client's. Seconds are tracked only where no ratio exists (the end-to-end overhead,
package builds). "Worse" knows each figure's direction: a longer wall time is worse, a lower efficiency is worse.
A figure whose baseline is 0 (no 429s, no bytes written) is worse when it grows past its absolute
tolerance, since no percentage of 0 means anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.targets import lookup

DEFAULT_THRESHOLD = 0.15
LOWER, HIGHER = "lower", "higher"


@dataclass(frozen=True)
class Tracked:
    figure: str  # path in latest.json
    better: str  # LOWER or HIGHER
    absolute_tolerance: float = 0.0  # differences this small are noise, whatever their percentage


TRACKED: tuple[Tracked, ...] = (
    Tracked("sync_full.efficiency", HIGHER),
    Tracked("sync_full.ratio_429", LOWER, 0.001),
    Tracked("sync_full.api_calls", LOWER),
    Tracked("sync_full.detail_p95_ms", LOWER, 5.0),
    Tracked("sync_full.detail_p99_ms", LOWER, 10.0),
    Tracked("sync_incremental.efficiency", HIGHER),
    Tracked("sync_incremental.detail_calls", LOWER),
    Tracked("sync_full_2rps.efficiency", HIGHER),
    Tracked("sync_full_2rps.ratio_429", LOWER, 0.001),
    Tracked("vs_baseline.responses_429_ratio", LOWER, 0.005),
    Tracked("vs_baseline.calls_ratio", LOWER, 0.02),
    Tracked("vs_baseline.efficiency_vs_best_baseline", HIGHER),
    Tracked("upsert.vs_bare_insert_10k", LOWER, 0.1),
    Tracked("upsert.vs_bare_insert_1m", LOWER, 0.1),
    Tracked("upsert.noop_1m_rows_written", LOWER),
    Tracked("upsert.batch_vs_row_speedup", HIGHER),
    Tracked("packages.build_p95_seconds", LOWER, 0.02),
    Tracked("packages.unchanged_rebuild_bytes_written", LOWER),
    Tracked("packages.packages_per_minute", HIGHER),
    Tracked("e2e.overhead_seconds", LOWER, 0.5),
    Tracked("e2e.overhead_busy_seconds", LOWER, 0.5),
    Tracked("memory.peak_rss_mb", LOWER, 10.0),
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def compare(
    latest: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    tracked: tuple[Tracked, ...] = TRACKED,
) -> list[dict[str, Any]]:
    """One row per tracked figure present in both reports, each with `regressed` True/False."""
    rows = []
    for item in tracked:
        now, then = _number(lookup(latest, item.figure)), _number(lookup(baseline, item.figure))
        if now is None or then is None:
            continue
        worse_by = (now - then) if item.better == LOWER else (then - now)
        relative = worse_by / abs(then) if then else (float("inf") if worse_by > 0 else 0.0)
        regressed = worse_by > item.absolute_tolerance and relative > threshold
        rows.append({
            "figure": item.figure,
            "better": item.better,
            "baseline": then,
            "latest": now,
            "change": round((now - then) / abs(then), 4) if then else None,  # signed, relative
            "worse_by": None if relative == float("inf") else round(relative, 4),  # > 0: worse
            "regressed": regressed,
        })
    return rows


def regressions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row["regressed"]]
