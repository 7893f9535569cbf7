"""Finding DuckDB lock errors where a run leaves them: its event log in the Dagster instance (every
event serialized, so a step failure's nested error counts too) and its captured stdout and stderr."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from dagster import DagsterInstance
from dagster._serdes import serialize_value

# What DuckDB says when another process holds the file.
LOCK_ERROR = re.compile(r"Could not set lock|Conflicting lock")


def runs_with_lock_errors(dagster_home: Path, run_ids: Iterable[str]) -> set[str]:
    """The runs whose event log or captured output mentions a DuckDB lock error."""
    found: set[str] = set()
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        for run_id in run_ids:
            if any(LOCK_ERROR.search(serialize_value(entry)) for entry in instance.all_logs(run_id)):
                found.add(run_id)
    for run_id in set(run_ids) - found:
        captured = dagster_home / "storage" / run_id
        if captured.is_dir() and any(LOCK_ERROR.search(path.read_text(errors="replace"))
                                     for path in captured.rglob("*") if path.is_file()):
            found.add(run_id)
    return found


def lock_lines_in_log(log_path: Path) -> list[str]:
    """Lines of a process's output (here `dagster dev`'s: webserver, daemon, code server) that mention one."""
    if not log_path.exists():
        return []
    return [line for line in log_path.read_text(errors="replace").splitlines() if LOCK_ERROR.search(line)]
