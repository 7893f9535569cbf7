"""An asset's recorded metrics, read back from the Dagster instance: the current run's
materialization and those of earlier runs, one per run.

History is a store's (a partition's) and is walked run by run (jumping to before each run's
start), not event by event.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg


@dataclass(frozen=True)
class RecordedMetrics:
    run_id: str
    timestamp: float
    metadata: Mapping[str, Any]  # plain values (MetadataValue.value)


def _record_metrics(record: dg.EventLogRecord) -> RecordedMetrics:
    materialization = record.asset_materialization
    metadata = {} if materialization is None else {key: value.value for key, value in materialization.metadata.items()}
    return RecordedMetrics(record.run_id, record.timestamp, metadata)


def _filter(asset: str, store: str | None, before: float | None = None) -> dg.AssetRecordsFilter:
    return dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[store] if store else None,
                                 before_timestamp=before)


def latest_metrics(instance: dg.DagsterInstance, asset: str, store: str | None = None) -> RecordedMetrics | None:
    """The asset's newest materialization (of `store`, a partition): the one its run just made,
    when a check runs after it."""
    records = instance.fetch_materializations(_filter(asset, store), limit=1).records
    return _record_metrics(records[0]) if records else None


def earlier_runs_metrics(
    instance: dg.DagsterInstance, asset: str, before_run_id: str, runs: int, store: str | None = None
) -> list[RecordedMetrics]:
    """The asset's metrics (of `store`) from up to `runs` earlier runs, newest first, one per run."""
    before = _run_start(instance, before_run_id)
    history: list[RecordedMetrics] = []
    while len(history) < runs:
        records = instance.fetch_materializations(_filter(asset, store, before), limit=1).records
        if not records:
            break
        record = records[0]
        if record.run_id != before_run_id:
            history.append(_record_metrics(record))
        # Everything the run recorded came after it started: skip the rest of its partitions.
        start = _run_start(instance, record.run_id)
        before = start if start is not None and (before is None or start < before) else record.timestamp
    return history


def _run_start(instance: dg.DagsterInstance, run_id: str) -> float | None:
    record = instance.get_run_record_by_id(run_id) if run_id else None
    return record.start_time if record is not None else None


@dataclass(frozen=True)
class Comparison:
    metric: str
    current: float
    baseline: float  # median of earlier runs
    change: float  # relative; positive is worse, whichever way the metric points
    runs: int

    def worse_than(self, tolerance: float) -> bool:
        return self.change > tolerance


def compare_with_baseline(
    metric: str, current: float, history: list[float], *, higher_is_better: bool = False
) -> Comparison | None:
    """The current value against the median of earlier ones; None without a (non-zero) baseline."""
    if not history:
        return None
    baseline = statistics.median(history)
    if baseline == 0:  # a relative change from zero means nothing
        return None
    change = (current - baseline) / abs(baseline)
    if higher_is_better:
        change = -change
    return Comparison(metric, current, baseline, round(change, 4), len(history))
