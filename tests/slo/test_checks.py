"""The SLO, regression and summary checks on crafted metadata histories in a real (test) instance.

Stand-in assets carry the real asset keys and crafted metadata; earlier runs are recorded as
materializations on the instance, so the checks read history exactly as they do in production.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from content_assets.check_steps import check_step
from content_assets.slo.checks import evaluate_slo, metric_part
from content_assets.definitions import defs
from content_assets.slo.history import earlier_runs_metrics
from content_assets.slo.budgets import SLOS

SLO = {slo.name: slo for slo in SLOS}


def stand_in(asset: str, metadata: Mapping[str, Any], **asset_args: Any) -> dg.AssetsDefinition:
    @dg.asset(name=asset, **asset_args)
    def _asset() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=dict(metadata))

    return _asset


def checks_of(asset: str) -> list[dg.AssetChecksDefinition]:
    return [check_step(f"{asset}_metric_checks", [metric_part(asset)])]


def run_checks(instance: dg.DagsterInstance, asset: str, metadata: Mapping[str, Any],
               only: Sequence[str] = ()) -> dict[str, dg.AssetCheckEvaluation]:
    """Materialize a stand-in for the asset and run its metric checks (all of them, or only those named)."""
    selection = None
    if only:
        selection = dg.AssetSelection.assets(asset).without_checks() | dg.AssetSelection.checks(
            *(dg.AssetCheckKey(dg.AssetKey(asset), name) for name in only))
    result = dg.materialize([stand_in(asset, metadata), *checks_of(asset)], instance=instance, selection=selection)
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def record_history(instance: dg.DagsterInstance, asset: str, metadata: Sequence[Mapping[str, Any]]) -> None:
    """Earlier materializations, oldest first."""
    for values in metadata:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, metadata=dict(values)))


def values(evaluation: dg.AssetCheckEvaluation) -> dict[str, Any]:
    return {key: value.value for key, value in evaluation.metadata.items()}


# -- SLOs ---------------------------------------------------------------------------------------


def test_slo_checks_fail_over_budget_and_carry_value_threshold_and_margin(instance):
    evaluations = run_checks(instance, "product_details", {
        "detail_fetch_p95_ms": 620.0,
        "api_requests_total": {"detail": {"200": 95, "429": 3}, "search": {"200": 2}},
        "api_429_total": 3,
    })

    p95, refused = evaluations["slo_detail_fetch_p95"], evaluations["slo_api_429_ratio"]
    assert not p95.passed and p95.severity == dg.AssetCheckSeverity.ERROR
    measured = values(p95)
    assert (measured["value"], measured["threshold"], measured["margin"]) == (620.0, 500.0, -120.0)
    assert not refused.passed
    assert values(refused)["value"] == 0.03 and values(refused)["threshold"] == 0.01


def test_slo_checks_pass_within_budget(instance):
    evaluations = run_checks(instance, "product_details", {
        "detail_fetch_p95_ms": 180.0, "api_requests_total": {"detail": {"200": 1000}}, "api_429_total": 0,
    })

    assert all(evaluation.passed for name, evaluation in evaluations.items() if name.startswith("slo_"))
    assert values(evaluations["slo_detail_fetch_p95"])["margin"] == 320.0


def test_sync_wall_time_is_judged_against_the_floor_of_the_calls_made():
    # 1,000 SKUs at 2 req/s: a floor of ~498 s; 1.1x that plus the fixed allowance is ~553 s.
    floor = {"rate_limit_floor_seconds": 498.0}
    assert evaluate_slo(SLO["slo_sync_wall_time"], {**floor, "sync_total_seconds": 540.0}).passed
    assert not evaluate_slo(SLO["slo_sync_wall_time"], {**floor, "sync_total_seconds": 600.0}).passed
    # A handful of changed products has a floor of 0 s; a 2 s sync of them is fine.
    assert evaluate_slo(SLO["slo_sync_wall_time"], {"rate_limit_floor_seconds": 0.0, "sync_total_seconds": 2.0}).passed


def test_upsert_of_10k_rows_over_two_minutes_fails():
    slo = SLO["slo_upsert_10k_rows"]
    assert not evaluate_slo(slo, {"upsert_seconds_per_10k_rows": 130.0, "rows_written": 10_000}).passed
    assert evaluate_slo(slo, {"upsert_seconds_per_10k_rows": 4.4, "rows_written": 1_000}).passed


def test_a_handful_of_rows_is_not_scaled_to_10k():
    result = evaluate_slo(SLO["slo_upsert_10k_rows"], {"upsert_seconds_per_10k_rows": 4000.0, "rows_written": 3})
    assert result.passed
    assert "value" not in result.metadata
    assert "too few" in result.metadata["note"].value


def test_package_build_budget_is_3_s_for_pictures_and_10_s_when_videos_were_cut():
    slo = SLO["slo_package_build_p95"]
    assert not evaluate_slo(slo, {"package_build_p95_seconds": 4.0, "videos_with_keyframes": 0}).passed
    assert evaluate_slo(slo, {"package_build_p95_seconds": 4.0, "videos_with_keyframes": 3}).passed
    assert not evaluate_slo(slo, {"package_build_p95_seconds": 11.0, "videos_with_keyframes": 3}).passed


def test_nothing_measured_passes_without_a_value():
    result = evaluate_slo(SLO["slo_detail_fetch_p95"], {"detail_fetch_p95_ms": None})
    assert result.passed
    assert "value" not in result.metadata


# -- regressions -----------------------------------------------------------------------------------


def test_more_than_15_percent_worse_than_the_median_of_earlier_runs_warns(instance):
    record_history(instance, "product_details", [{"detail_fetch_p95_ms": ms} for ms in [90, 100, 100, 110, 100]])

    evaluation = run_checks(instance, "product_details", {"detail_fetch_p95_ms": 120.0})["no_regression"]

    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    metadata = values(evaluation)
    assert metadata["detail_fetch_p95_ms_baseline"] == 100.0
    assert metadata["detail_fetch_p95_ms_current"] == 120.0
    assert metadata["detail_fetch_p95_ms_change"] == 0.2


def test_within_15_percent_of_the_baseline_passes(instance):
    record_history(instance, "product_details", [{"detail_fetch_p95_ms": 100.0}] * 3)
    evaluation = run_checks(instance, "product_details", {"detail_fetch_p95_ms": 114.0})["no_regression"]
    assert evaluation.passed


def test_the_baseline_is_the_last_10_runs_only(instance):
    record_history(instance, "product_details", [{"detail_fetch_p95_ms": 1000.0}] * 5 + [{"detail_fetch_p95_ms": 100.0}] * 10)
    evaluation = run_checks(instance, "product_details", {"detail_fetch_p95_ms": 130.0})["no_regression"]
    assert values(evaluation)["detail_fetch_p95_ms_baseline"] == 100.0
    assert values(evaluation)["history_runs"] == 10
    assert not evaluation.passed


def test_upsert_time_of_a_small_write_is_not_compared(instance):
    record_history(instance, "products", [{"upsert_seconds_per_10k_rows": 5.0, "rows_written": 5000}] * 3)
    evaluation = run_checks(instance, "products",
                            {"upsert_seconds_per_10k_rows": 900.0, "rows_written": 4})["no_regression"]
    assert evaluation.passed
    assert "upsert_seconds_per_10k_rows_current" not in values(evaluation)


def test_falling_sync_efficiency_is_a_regression_rising_is_not(instance):
    record_history(instance, "products", [{"sync_efficiency": 0.9, "upsert_seconds_per_10k_rows": 5.0,
                                           "rows_written": 5000}] * 3)

    worse = run_checks(instance, "products", {"sync_efficiency": 0.7, "upsert_seconds_per_10k_rows": 5.0,
                                              "rows_written": 5000})["no_regression"]
    better = run_checks(instance, "products", {"sync_efficiency": 0.99, "upsert_seconds_per_10k_rows": 5.0,
                                               "rows_written": 5000})["no_regression"]

    assert not worse.passed and "sync_efficiency" in worse.description
    assert better.passed


def test_a_first_run_has_nothing_to_regress_from(instance):
    evaluation = run_checks(instance, "content_packages", {"package_build_p95_seconds": 2.0})["no_regression"]
    assert evaluation.passed
    assert values(evaluation)["history_runs"] == 0


def test_a_run_over_many_days_counts_once_in_the_history(instance):
    days = dg.DailyPartitionsDefinition(start_date="2025-05-01", timezone="Asia/Seoul")
    ranged = stand_in("product_details", {"detail_fetch_p95_ms": 300.0}, partitions_def=days,
                      backfill_policy=dg.BackfillPolicy.single_run())
    dg.materialize([ranged], instance=instance, tags={"dagster/asset_partition_range_start": "2025-05-01",
                                                      "dagster/asset_partition_range_end": "2025-05-05"})
    single = stand_in("product_details", {"detail_fetch_p95_ms": 100.0}, partitions_def=days)
    for day in ("2025-05-06", "2025-05-07"):
        dg.materialize([single], instance=instance, partition_key=day)
    current = dg.materialize([single], instance=instance, partition_key="2025-05-08")

    history = earlier_runs_metrics(instance, "product_details", current.run_id, runs=10)

    assert [run.metadata["detail_fetch_p95_ms"] for run in history] == [100.0, 100.0, 300.0]
    assert len({run.run_id for run in history}) == 3


# -- the summary -----------------------------------------------------------------------------------


def test_the_slo_summary_is_a_markdown_table_of_value_threshold_status_and_trend(instance):
    record_history(instance, "product_details", [{"detail_fetch_p95_ms": 100.0, "api_429_total": 0,
                                                  "api_requests_total": {"detail": {"200": 100}}}] * 3)
    record_history(instance, "products", [{"sync_total_seconds": 60.0, "rate_limit_floor_seconds": 58.0,
                                           "upsert_seconds_per_10k_rows": 200.0, "rows_written": 20_000}])
    dg.materialize([stand_in("product_details", {"detail_fetch_p95_ms": 150.0, "api_429_total": 0,
                                                  "api_requests_total": {"detail": {"200": 100}}})], instance=instance)

    evaluation = run_checks(instance, "refresh_queue", {})["slo_summary"]

    table = values(evaluation)["slo_summary"]
    lines = table.splitlines()
    assert lines[0] == "| SLO | value | threshold | status | trend |"
    p95_row = next(line for line in lines if line.startswith("| Detail fetch p95"))
    assert "| 150 ms | 500 ms | pass | worse (+50% vs median of 3) |" in p95_row
    upsert_row = next(line for line in lines if line.startswith("| DuckDB upsert"))
    assert "| 200 s | 120 s | **FAIL** |" in upsert_row
    assert "not measured yet" in next(line for line in lines if line.startswith("| Package build"))
    assert not evaluation.passed and values(evaluation)["slos_missed"] == 1


def test_the_summary_shows_the_newest_run_that_measured_each_slo(instance):
    record_history(instance, "content_packages", [{"package_build_p95_seconds": 2.0}, {"package_build_p95_seconds": 4.0}])
    # The newest package run built nothing, so it measured nothing.
    dg.materialize([stand_in("content_packages", {"package_build_p95_seconds": None})], instance=instance)

    evaluation = run_checks(instance, "content_packages", {"package_build_p95_seconds": None})

    row = next(line for line in values(evaluation["slo_summary"])["slo_summary"].splitlines()
               if line.startswith("| Package build"))
    assert "| 4 s | 3 s | **FAIL** | worse (+100% vs median of 1) |" in row


# -- the steps that run them -------------------------------------------------------------------------

# Every check each job ran when each check was a step of its own: merging them into a step per
# asset (and one for the products data checks) must keep every key, so the UI's history, the
# sensors' gate and these tests go on reading the same checks.
JOB_CHECK_KEYS = {
    "sync_catalog": {
        ("product_details", "no_regression"),
        ("product_details", "slo_api_429_ratio"),
        ("product_details", "slo_detail_fetch_p95"),
        ("products", "no_regression"),
        ("products", "products_name_and_price_valid"),
        ("products", "products_origin_product_no_unique"),
        ("products", "products_quarantine"),
        ("products", "slo_sync_wall_time"),
        ("products", "slo_upsert_10k_rows"),
        ("refresh_queue", "refresh_queue_no_stuck_items"),
        ("refresh_queue", "slo_summary"),
    },
    "build_packages": {
        ("content_packages", "content_packages_queue_items_finished"),
        ("content_packages", "no_regression"),
        ("content_packages", "slo_package_build_p95"),
        ("content_packages", "slo_summary"),
    },
}
# Was 10 and 4, a step per check, then 6 and 2, a step per asset: now a step per op whose assets
# have checks (content_assets/check_steps.py).
JOB_CHECK_STEPS = {"sync_catalog": 2, "build_packages": 1}


def test_each_job_checks_the_same_keys_in_fewer_steps():
    for name, expected in JOB_CHECK_KEYS.items():
        job = defs.resolve_job_def(name)
        graph = job.asset_layer.asset_graph
        keys = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
        assert keys == expected, name
        ops = {node.name for node in job.graph.nodes}
        check_steps = [d.node_def.name for d in graph.assets_defs if d.check_keys and not d.keys]
        assert set(check_steps) <= ops
        assert len(check_steps) == JOB_CHECK_STEPS[name], (name, check_steps)


def test_an_asset_s_metric_checks_run_in_one_step(instance):
    result = dg.materialize([stand_in("products", {"sync_total_seconds": 10.0, "rate_limit_floor_seconds": 8.0}),
                             *checks_of("products")], instance=instance)

    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {"slo_sync_wall_time", "slo_upsert_10k_rows", "no_regression"}
    assert [step.step_key for step in result.get_step_success_events()] == ["products", "products_metric_checks"]


def test_a_check_selected_on_its_own_runs_and_reports_alone(instance):
    dg.materialize([stand_in("product_details", {"detail_fetch_p95_ms": 900.0, "api_429_total": 0,
                                                  "api_requests_total": {"detail": {"200": 10}}})], instance=instance)
    key = dg.AssetCheckKey(dg.AssetKey("product_details"), "slo_api_429_ratio")

    # The check alone, on the materialization already recorded, as the UI's "Execute" launches it.
    result = dg.materialize([stand_in("product_details", {}), *checks_of("product_details")], instance=instance,
                            selection=dg.AssetSelection.checks(key))

    (evaluation,) = result.get_asset_check_evaluations()
    assert (evaluation.asset_key, evaluation.check_name) == (key.asset_key, key.name)
    assert evaluation.passed and values(evaluation)["value"] == 0.0
    assert not result.get_asset_materialization_events()
    # Along with its asset, through run_checks' selection: still only the one selected.
    assert set(run_checks(instance, "product_details", {"detail_fetch_p95_ms": 900.0},
                          only=["slo_detail_fetch_p95"])) == {"slo_detail_fetch_p95"}
