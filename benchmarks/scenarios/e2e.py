"""The whole graph materialized through Dagster, as `make run` does, against a fresh emulator.

`scripts/run.py`'s `materialize()` runs on a temporary Dagster instance with a fresh DuckDB file
and packages folder. `overhead_seconds` is the wall time minus the API floor: everything that is
not waiting for the rate limit (Dagster, the database, package builds).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.emulator_process import ROOT, EmulatorProcess
from benchmarks.metrics import api_calls, count_status, floor_seconds
from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

# What each asset's metadata says about its own time, for the overhead breakdown.
TIMING_KEYS = ("sync_total_seconds", "db_upsert_seconds", "rate_limit_floor_seconds", "enqueue_seconds",
               "total_seconds", "list_fetch_seconds", "token_fetch_seconds", "package_build_p95_seconds",
               "packages_built", "details_fetched", "rows_written")


def _load_run_script() -> Any:
    spec = importlib.util.spec_from_file_location("content_ops_run_script", ROOT / "scripts" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(params: dict[str, Any]) -> dict[str, Any]:
    products = int(params.get("products", 1000))
    rate = float(params.get("rate", 20.0))
    with EmulatorProcess(products=products, rate=rate, seed=int(params.get("seed", 42)),
                         latency_ms=float(params.get("latency_ms", 0.0)),
                         latency_jitter_ms=float(params.get("latency_jitter_ms", 0.0))) as emulator, \
            tempfile.TemporaryDirectory(prefix="bench-e2e-") as scratch_dir:
        scratch = Path(scratch_dir)
        home = scratch / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
        os.environ.update(
            DAGSTER_HOME=str(home),
            NAVER_COMMERCE_BASE_URL=emulator.base_url,
            NAVER_COMMERCE_CLIENT_ID=DEFAULT_CLIENT_ID,
            NAVER_COMMERCE_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
            CONTENT_DB_PATH=str(scratch / "content_ops.duckdb"),
            PACKAGES_DIR=str(scratch / "packages"),
        )
        # Imports are the process's start-up, not the run's: timed apart.
        import_started = time.perf_counter()
        run_script = _load_run_script()
        import content_assets.definitions  # noqa: F401
        import_seconds = time.perf_counter() - import_started

        started = time.perf_counter()
        called_at = time.time()  # the instance records run times on this clock
        try:
            metadata = run_script.materialize()
        except SystemExit as exc:  # materialize() reports a failed run this way
            raise RuntimeError(str(exc)) from None
        wall = time.perf_counter() - started
        returned_at = time.time()
        requests = emulator.stats()["requests"]
        steps = _step_timeline()
        if steps:
            # materialize() beyond the run itself: building the job and run, reading the events back.
            steps["outside_run_seconds"] = round(wall - steps["run_seconds"], 3)
            steps["before_run_seconds"] = round(steps.pop("run_started_at") - called_at, 3)
            steps["after_run_seconds"] = round(returned_at - steps.pop("run_ended_at"), 3)

    api_floor = floor_seconds(requests, rate)
    breakdown = {
        asset: {key: value for key, value in values.items() if key in TIMING_KEYS}
        for asset, values in metadata.items()
    }
    return {
        "products": products,
        "rate_per_s": rate,
        "wall_seconds": round(wall, 3),
        "api_floor_seconds": round(api_floor, 3),
        "overhead_seconds": round(wall - api_floor, 3),
        "import_seconds": round(import_seconds, 3),
        "api_calls": api_calls(requests),
        "responses_429": count_status(requests, "429"),
        "server_requests": requests,
        "assets": breakdown,
        "steps": steps,
    }


def _step_timeline() -> dict[str, Any]:
    """Where the run's wall time went, from the Dagster instance: each step's start, duration and
    materialization count, and the time outside any step (run start-up, hand-over, shutdown)."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run = next(iter(instance.get_runs(limit=1)), None)
        if run is None:
            return {}
        run_stats = instance.get_run_stats(run.run_id)
        step_stats = sorted(instance.get_run_step_stats(run.run_id), key=lambda s: s.start_time or 0)
    run_start = run_stats.start_time or 0.0
    steps = [{
        "step": stat.step_key,
        "status": stat.status.value if stat.status else None,
        "starts_at_seconds": round((stat.start_time or run_start) - run_start, 3),
        "seconds": round((stat.end_time or 0) - (stat.start_time or 0), 3),
        "materializations": len(stat.materialization_events),
    } for stat in step_stats]
    run_seconds = (run_stats.end_time or run_start) - run_start
    return {
        "run_started_at": run_start,
        "run_ended_at": run_stats.end_time or run_start,
        "run_seconds": round(run_seconds, 3),
        "outside_steps_seconds": round(run_seconds - sum(step["seconds"] for step in steps), 3),
        "materializations": run_stats.materializations,
        "steps": steps,
    }
