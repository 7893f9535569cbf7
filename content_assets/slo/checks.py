"""The SLO dashboard as asset checks: one check per SLO, a regression check per measured asset,
and an SLO summary table at the end of every sync and every package build.

Each check reads what its asset recorded from the instance, so it sees exactly what the UI shows.
Their numeric metadata (value, threshold, margin, baseline, change) is what the UI plots over time.

An asset's metric checks are one part (content_assets/check_steps.py): they share the step after
the op that materialized the asset, and read that materialization once. Each check keeps its own
key, result and description, and can be run on its own.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg

from content_assets.slo.history import (
    Comparison,
    RecordedMetrics,
    compare_with_baseline,
    earlier_runs_metrics,
    latest_metrics,
)
from content_assets.check_steps import CheckPart, keyed
from content_assets.slo.budgets import BUDGETS, REGRESSION_METRICS, SLOS, RegressionMetric, Slo, SloBudgets
from content_assets.stores import PARTITION_TAG

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


def _regression_description(metrics: Sequence[RegressionMetric]) -> str:
    keys = ", ".join(metric.key for metric in metrics)
    return (f"{keys}: at most {BUDGETS.regression_tolerance:.0%} worse than the median of the "
            f"previous {BUDGETS.regression_history_runs} runs (WARN)")


def _trend(slo: Slo, current: float, earlier: Sequence[float]) -> str:
    comparison = compare_with_baseline(slo.name, current, list(earlier))
    if comparison is None:
        return "-"
    if abs(comparison.change) < 0.05:
        return f"steady ({comparison.change:+.0%})"
    return f"{'worse' if comparison.change > 0 else 'better'} ({comparison.change:+.0%} vs median of {comparison.runs})"


def slo_summary(instance: dg.DagsterInstance, budgets: SloBudgets = BUDGETS,
                store: str | None = None) -> tuple[str, int, int]:
    """A markdown table of every SLO; (table, met, missed).

    Each SLO shows the newest run that measured it: a run with nothing to measure (no detail
    calls, no package built) would otherwise blank the dashboard after every quiet hour.
    """
    rows = ["| SLO | value | threshold | status | trend |", "|---|---|---|---|---|"]
    met = missed = 0
    runs_by_asset: dict[str, list[RecordedMetrics]] = {}
    for slo in SLOS:
        if slo.asset not in runs_by_asset:
            latest = latest_metrics(instance, slo.asset, store)
            runs_by_asset[slo.asset] = [] if latest is None else [
                latest, *earlier_runs_metrics(instance, slo.asset, latest.run_id, budgets.regression_history_runs, store)
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


SUMMARY_DESCRIPTION = "Every SLO at a glance: value, threshold, pass or fail, trend against earlier runs"


def _summary_result(instance: dg.DagsterInstance, store: str | None) -> dg.AssetCheckResult:
    table, passed, failed = slo_summary(instance, store=store)
    return dg.AssetCheckResult(
        passed=failed == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{passed} SLO(s) met, {failed} missed",
        metadata={"store": store, "slo_summary": dg.MetadataValue.md(table), "slos_met": passed,
                  "slos_missed": failed},
    )


def metric_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """The asset's SLO checks, its regression check and its summary check, whichever it has."""
    specs = [dg.AssetCheckSpec(slo.name, asset=asset, description=slo.description) for slo in SLOS if slo.asset == asset]
    if asset in REGRESSION_METRICS:
        specs.append(dg.AssetCheckSpec("no_regression", asset=asset,
                                       description=_regression_description(REGRESSION_METRICS[asset])))
    if asset in SUMMARY_ASSETS:
        specs.append(dg.AssetCheckSpec("slo_summary", asset=asset, description=SUMMARY_DESCRIPTION))
    return specs


def metric_part(asset: str) -> CheckPart:
    """The asset's metric checks, judged on its newest materialization (content_assets/check_steps.py
    gives them a step)."""
    specs = metric_check_specs(asset)
    slos = {slo.name: slo for slo in SLOS if slo.asset == asset}
    regression_metrics = REGRESSION_METRICS.get(asset, ())

    def evaluate(context: dg.AssetCheckExecutionContext, _store: object,
                 selected: set[dg.AssetCheckKey]) -> Iterator[dg.AssetCheckResult]:
        # The SLO and regression checks judge the same materialization: read it once.
        needs_metrics = any(key.name in slos or key.name == "no_regression" for key in selected)
        store = context.run.tags.get(PARTITION_TAG)  # the store whose run this is
        recorded = latest_metrics(context.instance, asset, store) if needs_metrics else None
        for spec in specs:
            key = spec.key
            if key not in selected:
                continue
            if key.name == "slo_summary":
                result = _summary_result(context.instance, store)
            elif recorded is None:
                result = _not_materialized(asset)
            elif key.name == "no_regression":
                history = earlier_runs_metrics(context.instance, asset, recorded.run_id,
                                               BUDGETS.regression_history_runs, store)
                result = evaluate_regression(regression_metrics, recorded.metadata, [run.metadata for run in history])
            else:
                result = evaluate_slo(slos[key.name], recorded.metadata, provenance=_provenance(recorded, context))
            yield keyed(key, result)

    return CheckPart(tuple(specs), evaluate)


def _metric_assets() -> list[str]:
    assets = [slo.asset for slo in SLOS] + list(REGRESSION_METRICS) + list(SUMMARY_ASSETS)
    return list(dict.fromkeys(assets))


METRIC_CHECK_PARTS = [metric_part(asset) for asset in _metric_assets()]
