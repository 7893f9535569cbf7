"""The e2e scenario's split of a run's steps: an asset step's own body, apart from Dagster's records."""

from __future__ import annotations

import time

import dagster as dg

from benchmarks.scenarios.e2e import _asset_body_seconds


@dg.asset
def slow_asset() -> dg.MaterializeResult:
    time.sleep(0.3)
    return dg.MaterializeResult(metadata={"rows": 1})


@dg.asset_check(asset=slow_asset)
def slow_asset_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_an_asset_steps_body_is_timed_from_its_start_to_its_first_output_and_check_steps_are_left_out() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([slow_asset, slow_asset_check], instance=instance)
        bodies = _asset_body_seconds(instance, result.run_id)
        step = next(s for s in instance.get_run_step_stats(result.run_id) if s.step_key == "slow_asset")

    assert set(bodies) == {"slow_asset"}
    assert 0.3 <= bodies["slow_asset"] <= (step.end_time or 0) - (step.start_time or 0)
