"""content-ops as a user runs it, pointed at one emulator: its own DuckDB file, packages folder and
Dagster instance in a work folder, and the project's two jobs launched through Dagster.

The scenarios judge what the runs left behind, so this module also reads the store the way an
operator would (read-only SQL) and says plainly why a run failed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from commerce_emulator import EmulatorConfig, EmulatorServer

from .user_runs import UserSetup

# Dagster's console logger at WARNING: the runs' progress lines would bury the scenario's own.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
THRESHOLD_WORDS = "more than the allowed"  # how the sync says it failed only by its error ratio


def today_kst() -> str:
    return datetime.now(ZoneInfo("Asia/Seoul")).date().isoformat()


def prepare_environment() -> None:
    """Before content_assets is imported: the single store `default`, whatever the caller's
    environment holds (its stores are read at import time)."""
    os.environ.pop("CONTENT_OPS_STORES", None)


@dataclass
class RunOutcome:
    """One Dagster run: whether it succeeded, why not, and its assets' metadata."""

    job: str
    success: bool
    run_id: str = ""
    failure: str = ""
    crashed: bool = False  # raised out of Dagster itself instead of ending as a failed run
    seconds: float = 0.0
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failed_by_threshold_only(self) -> bool:
        return not self.success and not self.crashed and THRESHOLD_WORDS in self.failure


@dataclass
class Project:
    """The project configured against `emulator`, with its files under `workdir`."""

    emulator: EmulatorServer
    workdir: Path

    @property
    def setup(self) -> UserSetup:
        return UserSetup(self.workdir, self.emulator.base_url)

    @property
    def database_path(self) -> Path:
        return self.setup.database_path

    @property
    def packages_dir(self) -> Path:
        return self.setup.packages_dir

    def sync(self, run_config: dict | None = None) -> RunOutcome:
        """`sync_catalog` of the store `default`, as `make run` and the schedule launch it."""
        from content_assets.stores import sync_tags

        return self._execute("sync_catalog", sync_tags("default"), run_config)

    def build_packages(self, run_config: dict | None = None) -> RunOutcome:
        """`build_packages`, as the refresh-queue sensor launches it."""
        return self._execute("build_packages", {}, run_config)

    def _execute(self, job: str, tags: dict[str, str], run_config: dict | None) -> RunOutcome:
        import dagster as dg

        from content_assets.definitions import ALL_ASSETS, ALL_CHECKS
        from content_assets.environment import build_resources
        from content_assets.jobs import JOBS

        # The code location's own jobs, with resources read from this environment now (the module's
        # `defs` froze them when it was first imported, perhaps for another work folder).
        definitions = dg.Definitions(assets=ALL_ASSETS, asset_checks=ALL_CHECKS, jobs=JOBS,
                                     resources=build_resources(), executor=dg.in_process_executor)
        config = {**QUIET, **(run_config or {})}
        started = time.perf_counter()
        try:
            with dg.DagsterInstance.get() as instance:
                result = definitions.resolve_job_def(job).execute_in_process(
                    instance=instance, partition_key="default", tags=tags, run_config=config,
                    raise_on_error=False)
        except Exception as exc:  # noqa: BLE001 - a crash is what the scenario reports
            return RunOutcome(job, False, failure=f"{type(exc).__name__}: {exc}"[:500], crashed=True,
                              seconds=time.perf_counter() - started)
        return RunOutcome(job, result.success, result.run_id, _failure_of(result), metadata=_metadata_of(result),
                          seconds=time.perf_counter() - started)

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the store, for judging what the runs left."""
        con = duckdb.connect(str(self.database_path), read_only=True)
        try:
            yield con
        finally:
            con.close()


def _failure_of(result: Any) -> str:
    if result.success:
        return ""
    messages = [event.step_failure_data.error.message.strip()
                for event in result.all_events
                if event.is_step_failure and event.step_failure_data and event.step_failure_data.error]
    return " | ".join(messages)[:500] or "the run failed without a step failure"


def _metadata_of(result: Any) -> dict[str, dict[str, Any]]:
    metadata: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata[materialization.asset_key.to_user_string()] = {
            key: value.value for key, value in materialization.metadata.items()}
    return metadata


@contextmanager
def project(config: EmulatorConfig, workdir: Path) -> Iterator[Project]:
    """The emulator on loopback and the project's environment pointed at it and at `workdir`;
    the previous environment comes back afterwards."""
    prepare_environment()
    workdir.mkdir(parents=True, exist_ok=True)
    with EmulatorServer(config) as emulator:
        setup = UserSetup(workdir, emulator.base_url)
        setup.dagster_home.mkdir(exist_ok=True)
        (setup.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
        with environment(**setup.settings()):
            yield Project(emulator, workdir)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """These environment variables set inside the block, the previous ones back afterwards (a
    `dagster dev` started inside it copies them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
