"""The e2e scenario's split of a run's steps (an asset step's own body, apart from Dagster's records),
and the bare cost of the catalog's pictures its CPU is set beside."""

from __future__ import annotations

import time

import dagster as dg

from benchmarks.scenarios.e2e import _body_seconds, _first_outputs, bare_picture_cpu
from commerce_emulator.catalog import Catalog


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


def test_the_bare_picture_cost_is_a_sample_of_the_catalogs_pictures_scaled_to_all_of_them(tmp_path) -> None:
    params = {"products": 30, "seed": 7, "image_folder": str(tmp_path)}
    bare = bare_picture_cpu(params, sample=10)
    pictures = sum(product.image_count for product in Catalog(30, 7).products)
    assert bare["pictures"] == pictures and 10 <= bare["sampled"] <= 11
    assert bare["ms_per_picture"] > 0
    assert abs(bare["cpu_seconds"] - bare["ms_per_picture"] * pictures / 1000) <= 0.01 * pictures / 1000 + 0.01
