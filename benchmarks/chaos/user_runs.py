"""`scripts/run.py` (what `make run` runs) as a user starts it, in a process group of its own so a
SIGKILL takes it and anything it started; its DuckDB file, PACKAGES_DIR and DAGSTER_HOME in a
scenario's work folder, its API the scenario's emulator.

Which phase a run is in is read from the Dagster instance's run storage (a SQLite file), not from
the run's log lines: the package run logs nothing until it has built 200 packages.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

ROOT = Path(__file__).resolve().parents[2]
SYNC_JOB, PACKAGE_JOB = "sync_catalog", "build_packages"
ACTIVE = {"NOT_STARTED", "STARTING", "STARTED"}


@dataclass(frozen=True)
class UserSetup:
    """Where one user's install keeps its data."""

    workdir: Path
    base_url: str

    @property
    def database_path(self) -> Path:
        return self.workdir / "content_ops.duckdb"

    @property
    def packages_root(self) -> Path:
        return self.workdir / "packages"

    @property
    def packages_dir(self) -> Path:
        """The `default` store's packages."""
        return self.packages_root / "default"

    @property
    def dagster_home(self) -> Path:
        return self.workdir / "dagster_home"

    def settings(self) -> dict[str, str]:
        """The project's environment variables for this install (what a user exports)."""
        return {
            "NAVER_COMMERCE_BASE_URL": self.base_url,
            "NAVER_COMMERCE_CLIENT_ID": DEFAULT_CLIENT_ID,
            "NAVER_COMMERCE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
            "CONTENT_DB_PATH": str(self.database_path),
            "PACKAGES_DIR": str(self.packages_root),
            "DAGSTER_HOME": str(self.dagster_home),
        }

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.settings()}


def start_run(setup: UserSetup, log_path: Path) -> subprocess.Popen[bytes]:
    """`python scripts/run.py`, output to `log_path`, in a new session (its own process group)."""
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT, env=setup.environment(),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the run's whole process group; True when the run was still going when it struck."""
    alive = process.poll() is None
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)
    return alive


@dataclass(frozen=True)
class RunRow:
    row_id: int
    job_name: str
    status: str


def runs_after(setup: UserSetup, row_id: int) -> list[RunRow] | None:
    """The instance's runs recorded after row `row_id`, oldest first; None while the file is busy."""
    database = setup.dagster_home / "history" / "runs.db"
    if not database.exists():
        return []
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1.0) as con:
            rows = con.execute("SELECT id, pipeline_name, status FROM runs WHERE id > ? ORDER BY id",
                               [row_id]).fetchall()
    except sqlite3.Error:
        return None
    return [RunRow(int(row), str(job), str(status)) for row, job, status in rows]


def phase_of(runs: list[RunRow] | None) -> str:
    """Where a run of scripts/run.py is, from the runs it recorded so far: `startup` (no run yet),
    `sync`, `between` (the sync run is over, the package run not recorded yet), `packages`,
    `finishing` (the package run is over, the summary is being printed) or `unknown`."""
    if runs is None:
        return "unknown"
    if not runs:
        return "startup"
    newest = runs[-1]
    if newest.job_name == SYNC_JOB:
        return "sync" if newest.status in ACTIVE else "between"
    if newest.job_name == PACKAGE_JOB:
        return "packages" if newest.status in ACTIVE else "finishing"
    return "unknown"


def last_run_id(setup: UserSetup) -> int:
    """The newest run's row in the instance (0 before the first run)."""
    runs = runs_after(setup, 0)
    if runs is None:
        raise RuntimeError(f"the run storage under {setup.dagster_home} is busy, and no run of ours is going")
    return runs[-1].row_id if runs else 0
