"""The SLO dashboard as asset checks: one check per SLO, a regression check per measured asset,
and an SLO summary table at the end of every sync and every package build.

Each check reads what its asset recorded from the instance, so it sees exactly what the UI shows.
Their numeric metadata (value, threshold, margin, baseline, change) is what the UI plots over time.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from .metric_history import (
    Comparison,
    RecordedMetrics,
    compare_with_baseline,
    earlier_runs_metrics,
    latest_metrics,
)
from .slo import BUDGETS, REGRESSION_METRICS, SLOS, RegressionMetric, Slo, SloBudgets

SUMMARY_ASSETS = ("refresh_queue", "content_packages")  # the last asset of a sync run and of a package run


def _not_materialized(asset: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, description=f"{asset} has no materialization to judge yet")


def _provenance(recorded: RecordedMetrics, context: dg.AssetCheckExecutionContext) -> dict[str, object]:
    # A check launched on its own judges the newest materialization, which another run made.
    return {"materialization_run_id": recorded.run_id, "from_this_run": recorded.run_id == context.run.run_id}


def evaluate_slo(
    slo: Slo, metadata: Mapping[str, Any], budgets: SloBudgets = BUDGETS,
    provenance: Mapping[str, object] | None = None,
) -> dg.AssetCheckResult:
    measurement = slo.measure(metadata, budgets)
    result_metadata: dict[str, object] = {"threshold": measurement.threshold, "unit": slo.unit, **(provenance or {})}
    if measurement.value is not None:
        result_metadata.update(value=measurement.value, margin=measurement.margin)
    if measurement.note:
        result_metadata["note"] = measurement.note
    if measurement.value is None:
        description = f"{slo.description}: nothing to measure in this materialization"
    else:
        verdict = "within" if measurement.passed else "over"
        description = f"{slo.description}: {measurement.value:g} {slo.unit}, {verdict} {measurement.threshold:g}"
    return dg.AssetCheckResult(passed=measurement.passed, severity=dg.AssetCheckSeverity.ERROR,
                               metadata=result_metadata, description=description)


def slo_check(slo: Slo) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=slo.asset, name=slo.name, description=slo.description)
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        recorded = latest_metrics(context.instance, slo.asset)
        if recorded is None:
            return _not_materialized(slo.asset)
        return evaluate_slo(slo, recorded.metadata, provenance=_provenance(recorded, context))

    return _check


def evaluate_regression(
    metrics: Sequence[RegressionMetric],
    current: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    tolerance: float = BUDGETS.regression_tolerance,
) -> dg.AssetCheckResult:
    """WARN when a metric is more than `tolerance` worse than the median of earlier runs."""
    comparisons: list[Comparison] = []
    for metric in metrics:
        value = metric.value(current)
        if value is None:
            continue
        earlier = [v for v in (metric.value(run) for run in history) if v is not None]
        comparison = compare_with_baseline(metric.key, value, earlier, higher_is_better=metric.higher_is_better)
        if comparison is not None:
            comparisons.append(comparison)
    metadata: dict[str, object] = {"history_runs": len(history), "tolerance": tolerance}
    for comparison in comparisons:
        metadata[f"{comparison.metric}_current"] = comparison.current
        metadata[f"{comparison.metric}_baseline"] = comparison.baseline
        metadata[f"{comparison.metric}_change"] = comparison.change
    regressed = [c for c in comparisons if c.worse_than(tolerance)]
    if not comparisons:
        description = "no earlier runs with these metrics to compare with"
    elif regressed:
        description = "; ".join(
            f"{c.metric} {c.change:+.0%} worse than the median of {c.runs} earlier run(s) ({c.current:g} vs {c.baseline:g})"
            for c in regressed
        )
    else:
        description = f"within {tolerance:.0%} of the median of earlier runs"
    return dg.AssetCheckResult(passed=not regressed, severity=dg.AssetCheckSeverity.WARN,
                               metadata=metadata, description=description)


def regression_check(asset: str, metrics: Sequence[RegressionMetric]) -> dg.AssetChecksDefinition:
    keys = ", ".join(metric.key for metric in metrics)

    @dg.asset_check(asset=asset, name="no_regression",
                    description=f"{keys}: at most {BUDGETS.regression_tolerance:.0%} worse than the median of the "
                                f"previous {BUDGETS.regression_history_runs} runs (WARN)")
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        recorded = latest_metrics(context.instance, asset)
        if recorded is None:
            return _not_materialized(asset)
        history = earlier_runs_metrics(context.instance, asset, recorded.run_id, BUDGETS.regression_history_runs)
        return evaluate_regression(metrics, recorded.metadata, [run.metadata for run in history])

    return _check


def _trend(slo: Slo, current: float, earlier: Sequence[float]) -> str:
    comparison = compare_with_baseline(slo.name, current, list(earlier))
    if comparison is None:
        return "-"
    if abs(comparison.change) < 0.05:
        return f"steady ({comparison.change:+.0%})"
    return f"{'worse' if comparison.change > 0 else 'better'} ({comparison.change:+.0%} vs median of {comparison.runs})"


def slo_summary(instance: dg.DagsterInstance, budgets: SloBudgets = BUDGETS) -> tuple[str, int, int]:
    """A markdown table of every SLO; (table, met, missed).

    Each SLO shows the newest run that measured it: a run with nothing to measure (no detail
    calls, no package built) would otherwise blank the dashboard after every quiet hour.
    """
    rows = ["| SLO | value | threshold | status | trend |", "|---|---|---|---|---|"]
    met = missed = 0
    runs_by_asset: dict[str, list[RecordedMetrics]] = {}
    for slo in SLOS:
        if slo.asset not in runs_by_asset:
            latest = latest_metrics(instance, slo.asset)
            runs_by_asset[slo.asset] = [] if latest is None else [
                latest, *earlier_runs_metrics(instance, slo.asset, latest.run_id, budgets.regression_history_runs)
            ]
        measured = [m for m in (slo.measure(run.metadata, budgets) for run in runs_by_asset[slo.asset])
                    if m.value is not None]
        if not measured:
            rows.append(f"| {slo.description} | - | - | not measured yet | - |")
            continue
        current, earlier = measured[0], [m.value for m in measured[1:]]
        met, missed = (met + 1, missed) if current.passed else (met, missed + 1)
        status = "pass" if current.passed else "**FAIL**"
        trend = _trend(slo, current.value, earlier)  # type: ignore[arg-type]
        rows.append(f"| {slo.description} | {current.value:g} {slo.unit} | {current.threshold:g} {slo.unit} "
                    f"| {status} | {trend} |")
    return "\n".join(rows), met, missed


def summary_check(asset: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name="slo_summary",
                    description="Every SLO at a glance: value, threshold, pass or fail, trend against earlier runs")
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        table, passed, failed = slo_summary(context.instance)
        return dg.AssetCheckResult(
            passed=failed == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{passed} SLO(s) met, {failed} missed",
            metadata={"slo_summary": dg.MetadataValue.md(table), "slos_met": passed, "slos_missed": failed},
        )

    return _check


SLO_CHECKS = [slo_check(slo) for slo in SLOS]
REGRESSION_CHECKS = [regression_check(asset, metrics) for asset, metrics in REGRESSION_METRICS.items()]
SUMMARY_CHECKS = [summary_check(asset) for asset in SUMMARY_ASSETS]
