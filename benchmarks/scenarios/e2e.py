"""The whole graph materialized through Dagster, as `make run` does, against a fresh emulator.

`scripts/run.py`'s `materialize()` runs on a temporary Dagster instance with a fresh DuckDB file
and packages folder. `overhead_seconds` is the wall time minus the API floor: everything that is
not waiting for the rate limit (Dagster, the database, package builds).

The store is the single store `default` on a fresh install: its first sync lists the whole
catalog, one run per job.

With `cpu_hog`, a process of its own spins on one core for the whole run (the plan's `e2e_busy`,
right after `e2e`): the overhead must not grow when the machine's other core is taken.

The emulator serves its pictures from a folder filled before the run (`draw_pictures`, a step of
the first wave), as a CDN serves what sellers uploaded: drawing them on demand costs the emulator
about 5 ms of CPU a picture, some 26 CPU-seconds for the 1,000 products, taken from the cores the
client runs on, which a real CDN never takes. `cpu_seconds` reports both sides' CPU in the run.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from benchmarks.emulator_process import ROOT, EmulatorProcess
from benchmarks.metrics import api_calls, count_status, floor_seconds
from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from commerce_emulator.catalog import Catalog
from commerce_emulator.images import ImageShelf

# The emulator's pictures, drawn once a machine (ImageShelf names them by the drawing's version).
PICTURE_FOLDER = Path(tempfile.gettempdir()) / "content-ops-bench-pictures"
# What each asset's metadata says about its own time, for the overhead breakdown.
TIMING_KEYS = ("sync_total_seconds", "db_upsert_seconds", "rate_limit_floor_seconds", "enqueue_seconds",
               "total_seconds", "list_fetch_seconds", "token_fetch_seconds", "package_build_p95_seconds",
               "packages_built", "details_fetched", "rows_written", "media_warm_busy_seconds",
               "media_warm_pending_at_end", "media_warm_tail_seconds", "packages_prebuilt")


def _load_run_script() -> Any:
    spec = importlib.util.spec_from_file_location("content_ops_run_script", ROOT / "scripts" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def cpu_hog() -> Iterator[subprocess.Popen]:
    """A process that keeps one core busy (a Python loop, normal priority) until the block ends."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield hog
    finally:
        hog.kill()
        hog.wait()


def draw_pictures(params: dict[str, Any]) -> dict[str, Any]:
    """Fill the emulator's picture folder for the catalog of `products` and `seed` (once a machine:
    what is there already is kept)."""
    started = time.perf_counter()
    seed, folder = int(params.get("seed", 42)), _picture_folder(params)
    catalog = Catalog(int(params.get("products", 1000)), seed)
    drawn = ImageShelf(folder).fill(seed, ((product.origin_product_no, product.image_count)
                                           for product in catalog.products))
    return {"pictures_drawn": drawn, "seconds": round(time.perf_counter() - started, 3), "folder": str(folder)}


def bare_picture_cpu(params: dict[str, Any], sample: int = 200) -> dict[str, Any]:
    """The CPU the catalog's pictures cost at the least: an even sample of them normalized one
    after another on this thread by the pipeline's own normalize_image (decode, resize, encode,
    perceptual hash, or a JPEG kept as stored; nothing written, no HTTP, no threads), scaled to
    all of them. Measured in the run's process once it is over (the
    hog stopped): how fast this machine does the picture work that any client must do."""
    from content_assets.packages.media.normalize import (
        NormalizeSettings,
        normalize_image,
    )

    seed = int(params.get("seed", 42))
    catalog = Catalog(int(params.get("products", 1000)), seed)
    pictures = [(product.origin_product_no, number) for product in catalog.products
                for number in range(1, product.image_count + 1)]
    shelf, settings = ImageShelf(_picture_folder(params)), NormalizeSettings()
    chosen = pictures[::max(1, len(pictures) // sample)]
    data = [shelf.get(seed, number, image) for number, image in chosen]
    started = time.thread_time()
    for picture in data:
        normalize_image(picture, settings)
    per_picture = (time.thread_time() - started) / max(1, len(data))
    return {"pictures": len(pictures), "sampled": len(data), "ms_per_picture": round(per_picture * 1000, 2),
            "cpu_seconds": round(per_picture * len(pictures), 2)}


def _picture_folder(params: dict[str, Any]) -> Path:
    return Path(params.get("image_folder") or PICTURE_FOLDER)


def run(params: dict[str, Any]) -> dict[str, Any]:
    products = int(params.get("products", 1000))
    rate = float(params.get("rate", 20.0))
    busy = bool(params.get("cpu_hog", False))
    drawn_before = draw_pictures(params)["pictures_drawn"]  # none when the first wave filled the folder
    with cpu_hog() if busy else nullcontext(), EmulatorProcess(products=products, rate=rate, seed=int(params.get("seed", 42)),
                         image_folder=_picture_folder(params),
                         latency_ms=float(params.get("latency_ms", 0.0)),
                         latency_jitter_ms=float(params.get("latency_jitter_ms", 0.0))) as emulator, \
            tempfile.TemporaryDirectory(prefix="bench-e2e-") as scratch_dir:
        scratch = Path(scratch_dir)
        home = scratch / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
        os.environ.pop("CONTENT_OPS_STORES", None)
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
        # A deployment's instance exists before its first run: creating its SQLite storage (~2 s)
        # is set-up, timed apart like the imports.
        import dagster as dg

        instance_started = time.perf_counter()
        with dg.DagsterInstance.get() as instance:
            instance.get_runs(limit=1)
        instance_setup_seconds = time.perf_counter() - instance_started

        emulator_cpu, own_cpu = emulator.cpu_seconds(), _own_cpu_seconds()
        started = time.perf_counter()
        called_at = time.time()  # the instance records run times on this clock
        try:
            metadata = run_script.materialize()["default"]
        except SystemExit as exc:  # materialize() reports a failed run this way
            raise RuntimeError(str(exc)) from None
        wall = time.perf_counter() - started
        returned_at = time.time()
        cpu = {"ours": round(_own_cpu_seconds() - own_cpu, 2), "emulator": round(emulator.cpu_seconds() - emulator_cpu, 2)}
        requests = emulator.stats()["requests"]
        timeline = _run_timeline(called_at, returned_at)

    bare = bare_picture_cpu(params)
    api_floor = floor_seconds(requests, rate)
    in_bodies = sum(step.get("body_seconds", 0.0) for run in timeline["runs"] for step in run["steps"]) - api_floor
    breakdown = {
        asset: {key: value for key, value in values.items() if key in TIMING_KEYS}
        for asset, values in metadata.items()
    }
    return {
        "products": products,
        "rate_per_s": rate,
        "cpu_hog": busy,
        "pictures_drawn_before_the_run": drawn_before,
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "wall_seconds": round(wall, 3),
        "api_floor_seconds": round(api_floor, 3),
        "overhead_seconds": round(wall - api_floor, 3),
        # The overhead split: the asset functions' own time beyond the floor (the sync's sign-in,
        # first page and last call, writes, package publishing), and everything else (Dagster's
        # run start-up and event records, the check steps, the time between the runs).
        "overhead_split": {"in_asset_bodies_seconds": round(in_bodies, 3),
                           "outside_asset_bodies_seconds": round(wall - api_floor - in_bodies, 3)},
        # CPU time spent during the run: ours (this process and its finished children) and the
        # emulator's (its API and its picture rendering, which a real CDN does elsewhere).
        "cpu_seconds": cpu,
        # What the run's CPU comes to beside the bare cost of its pictures on this machine (see
        # bare_picture_cpu): a ratio that holds from machine to machine where seconds do not.
        "cpu_ms_per_product": round(cpu["ours"] * 1000 / products, 1),
        "bare_pictures": bare,
        "cpu_vs_bare_pictures": round(cpu["ours"] / bare["cpu_seconds"], 2) if bare["cpu_seconds"] else None,
        "import_seconds": round(import_seconds, 3),
        "instance_setup_seconds": round(instance_setup_seconds, 3),
        "api_calls": api_calls(requests),
        "responses_429": count_status(requests, "429"),
        "server_requests": requests,
        "assets": breakdown,
        "timeline": timeline,
    }


def _own_cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _run_timeline(called_at: float, returned_at: float) -> dict[str, Any]:
    """Where materialize()'s wall time went, from the (fresh) Dagster instance: each run it launched,
    each step's duration and materialization count, and the time outside any run (creating a run
    records its planned materializations; reading the results back)."""
    import dagster as dg

    runs = []
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs():
            stats = instance.get_run_stats(run.run_id)
            start = stats.start_time or called_at
            end = stats.end_time or start
            steps = sorted(instance.get_run_step_stats(run.run_id), key=lambda s: s.start_time or 0)
            outputs = _first_outputs(instance, run.run_id)
            runs.append({
                "job": run.job_name,
                "status": run.status.value,
                "starts_at_seconds": round(start - called_at, 3),
                "run_seconds": round(end - start, 3),
                "materializations": stats.materializations,
                "steps": [_step_row(step, start, outputs) for step in steps],
            })
    runs.sort(key=lambda run: run["starts_at_seconds"])
    in_runs = sum(run["run_seconds"] for run in runs)
    return {
        "runs": runs,
        "run_seconds": round(in_runs, 3),
        "outside_runs_seconds": round(returned_at - called_at - in_runs, 3),
        "before_first_run_seconds": runs[0]["starts_at_seconds"] if runs else None,
        "materializations": sum(run["materializations"] for run in runs),
    }


def _step_row(step: Any, run_start: float, first_outputs: dict[str, float]) -> dict[str, Any]:
    row = {
        "step": step.step_key,
        "starts_at_seconds": round((step.start_time or run_start) - run_start, 3),
        "seconds": round((step.end_time or 0) - (step.start_time or 0), 3),
        "materializations": len(step.materialization_events),
    }
    body = _body_seconds(step, first_outputs)
    if body is not None:
        row["body_seconds"] = round(body, 3)
    return row


def _first_outputs(instance: Any, run_id: str) -> dict[str, float]:
    """When each step of the run yielded its first output."""
    import dagster as dg

    first: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_OUTPUT):
        if entry.step_key is not None:
            first.setdefault(entry.step_key, entry.timestamp)
    return first


def _body_seconds(step: Any, first_outputs: dict[str, float]) -> float | None:
    """An asset step's own function, timed from the step's start to its first output: the assets
    do their work before they yield or return. None for a step that materializes nothing (check
    steps interleave their work with Dagster's record of each result, so they are not split)."""
    if not step.materialization_events or step.start_time is None or step.step_key not in first_outputs:
        return None
    return first_outputs[step.step_key] - step.start_time
