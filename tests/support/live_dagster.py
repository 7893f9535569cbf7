"""`dagster dev` on the project's workspace.yaml, as a subprocess with a temporary DAGSTER_HOME
(holding the project's dagster.yaml) and the project pointed at an emulator, plus the GraphQL
calls the tests make."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorServer
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")
TERMINAL_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}
"""

LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""

RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId jobName status tags { key value } startTime endTime } }
  }
}
"""


@dataclass
class LiveDagster:
    url: str
    home: Path
    database_path: Path
    packages_dir: Path
    log_path: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
        assert response.status_code == 200, response.text[:2000]
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def launch_run(self, job: str, tags: dict[str, str] | None = None, run_config: dict | None = None) -> str:
        params = {
            "selector": {"repositoryLocationName": "content_ops", "repositoryName": "__repository__", "jobName": job},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
            "mode": "default",
            **({"runConfigData": run_config} if run_config else {}),
        }
        result = self.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def launch_backfill(self, assets: list[str], first: str, last: str) -> str:
        params = {
            "partitionsByAssets": [
                {"assetKey": {"path": [asset]}, "partitions": {"range": {"start": first, "end": last}}}
                for asset in assets
            ],
        }
        result = self.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", result
        return result["backfillId"]

    def runs(self, tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
        run_filter = {"tags": [{"key": k, "value": v} for k, v in tags.items()]} if tags else {}
        return self.graphql(RUNS, {"filter": run_filter})["runsOrError"]["results"]

    def wait_for_runs(self, run_ids: set[str], timeout: float) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            runs = {run["runId"]: run for run in self.runs() if run["runId"] in run_ids}
            if len(runs) == len(run_ids) and all(run["status"] in TERMINAL_STATUSES for run in runs.values()):
                return runs
            assert time.monotonic() < deadline, f"runs not finished after {timeout}s: {runs}\n{self.log_tail()}"
            time.sleep(0.5)

    def wait_for_backfill_runs(self, backfill_id: str, timeout: float, settle: float = 3.0) -> set[str]:
        """The runs the backfill launched: they are all launched in the daemon's first pass over it."""
        deadline = time.monotonic() + timeout
        while not self.runs({"dagster/backfill": backfill_id}):
            assert time.monotonic() < deadline, f"backfill {backfill_id} launched no run in {timeout}s\n{self.log_tail()}"
            time.sleep(0.5)
        time.sleep(settle)
        return {run["runId"] for run in self.runs({"dagster/backfill": backfill_id})}

    def wait_for_ui_run(self, known: set[str], timeout: float, other_backfill: str | None = None) -> str:
        """A run launched from the UI (or by a backfill the UI launched: not `other_backfill`) that is
        not in `known`."""
        deadline = time.monotonic() + timeout
        while True:
            # A partitioned asset's Materialize launches a backfill of the partitions chosen.
            new = [run["runId"] for run in self.runs() if run["runId"] not in known
                   and any(tag["key"] == "dagster/from_ui" or (tag["key"] == "dagster/backfill"
                                                              and tag["value"] != other_backfill)
                           for tag in run["tags"])]
            if new:
                return new[0]
            assert time.monotonic() < deadline, f"no run launched from the UI within {timeout}s"
            time.sleep(0.5)

    def package_runs(self, stores: int, timeout: float = 180) -> set[str]:
        """The build_packages runs, once the refresh-queue sensor has launched one for every store."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = {run["runId"]: run for run in self.runs() if run["jobName"] == "build_packages"}
            partitions = {tag["value"] for run in runs.values() for tag in run["tags"]
                          if tag["key"] == "dagster/partition"}
            if len(partitions) >= stores:
                return set(runs)
            time.sleep(1)
        raise AssertionError(f"package runs for {stores} stores not launched within {timeout:.0f} s\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def live_dagster(tmp_path: Path, emulator: EmulatorServer, *, startup_timeout: float = 90.0,
                 extra_env: dict[str, str] | None = None,
                 instance_config: Path = ROOT / "dagster.yaml") -> Iterator[LiveDagster]:
    """`dagster dev -w workspace.yaml` until the block ends; the whole process group is stopped after.
    `extra_env`: more of the project's settings (a stores file and its apps' credentials);
    `instance_config`: the dagster.yaml of its DAGSTER_HOME (deploy/dagster.yaml: Postgres)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(instance_config, home / "dagster.yaml")
    port = free_port()
    live = LiveDagster(f"http://127.0.0.1:{port}", home, tmp_path / "content.duckdb", tmp_path / "packages",
                       tmp_path / "dagster-dev.log")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "NAVER_COMMERCE_BASE_URL": emulator.base_url,
        "NAVER_COMMERCE_CLIENT_ID": DEFAULT_CLIENT_ID,
        "NAVER_COMMERCE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "CONTENT_DB_PATH": str(live.database_path),
        "PACKAGES_DIR": str(live.packages_dir),
        **(extra_env or {}),
    }
    with live.log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(DAGSTER), "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            _wait_until_loaded(live, process, startup_timeout)
            yield live
        finally:
            _stop(process)


def _wait_until_loaded(live: LiveDagster, process: subprocess.Popen, timeout: float) -> None:
    """Until the code location is loaded, as told by this `dagster dev`'s own webserver: the instance
    answering must be the one in `live.home` (another test's webserver could hold the port)."""
    deadline = time.monotonic() + timeout
    query = "{ instance { info } workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {process.returncode}:\n{live.log_tail()}")
        if "address already in use" in live.log_path.read_text(errors="replace"):
            raise RuntimeError(f"dagster dev could not bind {live.url}: another process holds it\n{live.log_tail()}")
        try:
            data = live.graphql(query)
            entries = data["workspaceOrError"]["locationEntries"]
            ours = str(live.home) in (data["instance"]["info"] or "")
            if ours and entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                return
        except (httpx.HTTPError, KeyError, TypeError, AssertionError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"dagster dev did not load the code location within {timeout}s:\n{live.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    """SIGINT is what `dagster dev` shuts its webserver, daemon and code server down on; after a
    short grace the rest goes (the instance is a temporary one, nothing of it is kept)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    try:  # whatever of its group is left (a run worker, a code server): it was started for this test
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)
