"""The short version of the chaos suite's `overlap` scenario (`make chaos` runs the long one):
schedule, sensor, backfill and manual runs overlapping in a real `dagster dev` without a DuckDB lock
failure, and the lock-failure finder it relies on, shown a real one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from benchmarks.chaos import overlap
from benchmarks.chaos.lock_errors import runs_with_lock_errors
from tests.support.live_dagster import DAGSTER


def _dagster_cli_problem() -> str | None:
    try:
        answer = subprocess.run([str(DAGSTER), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{DAGSTER} does not start: {exc}"
    return None if answer.returncode == 0 else f"{DAGSTER} --version exited with {answer.returncode}: {answer.stderr[-500:]}"


@pytest.mark.timeout(300)
def test_schedule_sensor_backfill_and_manual_runs_overlapping_in_a_live_daemon_never_fail_on_the_lock(
    tmp_path: Path,
):
    problem = _dagster_cli_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)

    result = overlap.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    assert result.figures["lock_failures"] == 0
    assert result.figures["runs_backfill"] >= 1 and result.figures["runs_manual"] == 2
    assert result.figures["succeeded"] == result.figures["runs"]


@dg.asset
def held_file() -> None:
    duckdb.connect(os.environ["CHAOS_HELD_DUCKDB"]).close()


def test_a_run_that_met_a_held_duckdb_file_is_found_by_its_lock_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The overlap scenario's 0 is worth something only if a real lock failure is seen."""
    database = tmp_path / "held.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(120)", str(database)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        home = tmp_path / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        monkeypatch.setenv("CHAOS_HELD_DUCKDB", str(database))
        with dg.DagsterInstance.from_config(str(home)) as instance:
            failed = dg.materialize([held_file], instance=instance, raise_on_error=False)
            passed = dg.materialize([dg.asset(name="fine")(lambda: None)], instance=instance)
    finally:
        holder.kill()
        holder.wait(timeout=10)

    assert not failed.success
    assert runs_with_lock_errors(home, [failed.run_id, passed.run_id]) == {failed.run_id}
