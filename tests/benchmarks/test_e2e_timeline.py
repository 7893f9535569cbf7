"""The e2e scenario's split of a run's steps: an asset step's own body, apart from Dagster's records."""

from __future__ import annotations

import time

import dagster as dg

from benchmarks.scenarios.e2e import _body_seconds, _first_outputs


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
        outputs = _first_outputs(instance, result.run_id)
        steps = instance.get_run_step_stats(result.run_id)
    bodies = {step.step_key: _body_seconds(step, outputs) for step in steps}
    step = next(step for step in steps if step.step_key == "slow_asset")

    assert len(bodies) == 2 and [key for key, body in bodies.items() if body is not None] == ["slow_asset"]
    assert 0.3 <= bodies["slow_asset"] <= (step.end_time or 0) - (step.start_time or 0)
