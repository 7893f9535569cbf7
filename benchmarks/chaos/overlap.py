"""Chaos scenario `overlap`: a real `dagster dev` (webserver and daemon) on workspace.yaml with a
temporary DAGSTER_HOME holding the project's dagster.yaml, the schedule ticking every minute and the
sensors on, and at the same moment a backfill of several days, a manual sync and a manual package
build, in waves while the seller edits products. Every run must succeed and none may fail on the
DuckDB file lock.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.chaos.project import environment
from benchmarks.chaos.lock_errors import lock_lines_in_log, runs_with_lock_errors
from benchmarks.chaos.result import ScenarioResult
from benchmarks.emulator_process import EmulatorProcess
from content_assets.stores import sync_tags
from tests.support.live_dagster import TERMINAL_STATUSES, LiveDagster, live_dagster

SYNC_ASSETS = ["product_list", "product_details", "products", "refresh_queue"]


@dataclass(frozen=True)
class OverlapPlan:
    products: int
    waves: int  # each: a backfill, a manual sync of today, a manual package build
    wave_gap_seconds: float  # long enough for the schedule (every minute) and the sensors to tick between
    settle_seconds: float  # after the last run ends, how long the sensors may still launch one
    want_daemon_runs: bool  # whether the schedule and the refresh-queue sensor must have launched runs
    rate: float = 200.0
    modify_fraction: float = 0.1
    timeout_seconds: float = 600.0


LONG = OverlapPlan(products=300, waves=3, wave_gap_seconds=40.0, settle_seconds=35.0, want_daemon_runs=True)
# After the waves, a last edit: the schedule's next sync (within a minute) stores it and the
# refresh-queue sensor (every 30 s, when no run is active) builds it, well within this.
DAEMON_WAIT_SECONDS = 240.0
SHORT = OverlapPlan(products=60, waves=1, wave_gap_seconds=0.0, settle_seconds=0.0, want_daemon_runs=False,
                    timeout_seconds=240.0)


def run(short: bool, workdir: Path) -> ScenarioResult:
    plan = SHORT if short else LONG
    result = ScenarioResult("overlap")
    started = time.perf_counter()
    folder = workdir / f"overlap-{int(time.time() * 1000)}"
    folder.mkdir(parents=True)
    with EmulatorProcess(products=plan.products, rate=plan.rate) as emulator, \
            environment(CONTENT_OPS_SYNC_CRON="* * * * *"), live_dagster(folder, emulator) as live:  # type: ignore[arg-type]
        launched_at = time.perf_counter()
        manual = _launch_waves(live, emulator, plan)
        runs = _wait_until_quiet(live, plan, result)
        if plan.want_daemon_runs:
            # Changes no manual run takes (their builds drained the queue of every earlier one):
            # left for the schedule's next sync and the refresh-queue sensor's package build.
            emulator.modify(plan.modify_fraction, seed=plan.waves)
            runs = _wait_for_sensor_run(live, manual, result)
        wall = time.perf_counter() - launched_at
        _judge(result, live, runs, manual, plan)
        result.figures["wall_seconds"] = round(wall, 1)
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def _launch_waves(live: LiveDagster, emulator: EmulatorProcess, plan: OverlapPlan) -> set[str]:
    """Each wave at once: the seller's edits, a backfill of the store, a manual sync (a full
    refresh every other wave), a package build. Returns the manual runs' ids."""
    store = {"dagster/partition": "default"}
    manual: set[str] = set()
    for wave in range(plan.waves):
        if wave:
            time.sleep(plan.wave_gap_seconds)
        emulator.modify(plan.modify_fraction, seed=wave)
        live.launch_backfill(SYNC_ASSETS, "default", "default")
        config = {"ops": {"catalog_sync": {"config": {"full_refresh": wave % 2 == 1}}}}
        manual.add(live.launch_run("sync_catalog", {**store, **sync_tags("default")}, run_config=config))
        manual.add(live.launch_run("build_packages", store))
    return manual


def _wait_for_sensor_run(live: LiveDagster, manual: set[str], result: ScenarioResult) -> dict[str, dict[str, Any]]:
    """Every run of the session, once the refresh-queue sensor's run has ended and no run is going
    (the schedule goes on launching one a minute, so the session is never quiet for long)."""
    deadline = time.monotonic() + DAEMON_WAIT_SECONDS
    while True:
        runs = {run["runId"]: run for run in live.runs()}
        sensed = [run for run in runs.values() if _kind(run, manual) == "sensor"]
        busy = [run for run in runs.values() if run["status"] not in TERMINAL_STATUSES]
        if sensed and not busy:
            return runs
        if time.monotonic() > deadline:
            if busy:
                result.check(False, f"{len(busy)} run(s) still going {DAEMON_WAIT_SECONDS:.0f} s after the last "
                                    f"edit: {[(r['jobName'], r['status']) for r in busy]}")
            return runs
        time.sleep(1.0)


def _wait_until_quiet(live: LiveDagster, plan: OverlapPlan, result: ScenarioResult) -> dict[str, dict[str, Any]]:
    """Every run of the session, once all are over and none started for `settle_seconds` (the
    daemon's backfill pass and the sensors launch theirs a little after)."""
    settle = plan.settle_seconds
    deadline = time.monotonic() + plan.timeout_seconds
    quiet_since: float | None = None
    while True:
        runs = {run["runId"]: run for run in live.runs()}
        busy = [run for run in runs.values() if run["status"] not in TERMINAL_STATUSES]
        backfills_pending = _backfills_without_runs(live, runs)
        if runs and not busy and not backfills_pending:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= settle:
                return runs
        else:
            quiet_since = None
        if time.monotonic() > deadline:
            result.check(False, f"{len(busy)} run(s) still going after {plan.timeout_seconds:.0f} s: "
                                f"{[(r['jobName'], r['status']) for r in busy]}; {live.log_tail(5)}")
            return runs
        time.sleep(1.0)


def _backfills_without_runs(live: LiveDagster, runs: dict[str, dict[str, Any]]) -> int:
    """Backfills the daemon has not launched a run for yet."""
    data = live.graphql("{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status } } } }")
    backfills = data["partitionBackfillsOrError"]["results"]
    launched = {tag["value"] for run in runs.values() for tag in run["tags"] if tag["key"] == "dagster/backfill"}
    return sum(1 for backfill in backfills if backfill["id"] not in launched and backfill["status"] == "REQUESTED")


def _kind(run: dict[str, Any], manual: set[str]) -> str:
    tags = {tag["key"] for tag in run["tags"]}
    if "dagster/backfill" in tags:
        return "backfill"
    if "dagster/schedule_name" in tags:
        return "schedule"
    if "dagster/sensor_name" in tags:
        return "sensor"
    return "manual" if run["runId"] in manual else "other"


def _judge(result: ScenarioResult, live: LiveDagster, runs: dict[str, dict[str, Any]], manual: set[str],
           plan: OverlapPlan) -> None:
    kinds = Counter(_kind(run, manual) for run in runs.values())
    statuses = Counter(run["status"] for run in runs.values())
    locked = runs_with_lock_errors(live.home, list(runs))
    daemon_lock_lines = lock_lines_in_log(live.log_path)
    failed = sorted((run["jobName"], run["runId"][:8], run["status"]) for run in runs.values()
                    if run["status"] != "SUCCESS")
    result.check(not failed, f"{len(failed)} run(s) did not succeed: {failed[:5]}")
    result.check(not locked, f"{len(locked)} run(s) hit the DuckDB file lock: {sorted(locked)[:5]}")
    result.check(manual <= set(runs), "a manual run is missing from the instance")
    result.check(kinds["backfill"] >= 1, "the backfills launched no run")
    if plan.want_daemon_runs:
        result.check(kinds["schedule"] >= 1, "the schedule (every minute here) launched no run")
        result.check(kinds["sensor"] >= 1, "the refresh-queue sensor launched no run")
    result.figures.update({
        "runs": len(runs),
        **{f"runs_{kind}": kinds[kind] for kind in ("backfill", "schedule", "sensor", "manual", "other")},
        "succeeded": statuses["SUCCESS"],
        "lock_failures": len(locked),
        "lock_lines_outside_runs": len(daemon_lock_lines),  # e.g. a sensor tick skipped on a held file
        "most_runs_in_progress_at_once": _most_at_once(runs.values()),
    })


def _most_at_once(runs: Any) -> int:
    """The largest number of runs whose [start, end] intervals overlap at one moment (1 with the pool)."""
    edges = sorted([(run["startTime"], 1) for run in runs if run["startTime"]]
                   + [(run["endTime"], -1) for run in runs if run["startTime"] and run["endTime"]],
                   key=lambda edge: (edge[0], edge[1]))
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most
