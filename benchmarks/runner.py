"""Runs the plan: each step in a child process, the steps of a wave side by side, waves in order.

Steps marked `background` start with the first wave and are waited for at the end: long syncs
that mostly wait on the rate limit, and, at a low CPU priority (`nice` 19), steps whose figure is
not a time (peak memory), which then take only the CPU the measured steps leave idle.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.emulator_process import ROOT

DEFAULT_TIMEOUT_SECONDS = 1_800.0


@dataclass(frozen=True)
class Step:
    """One scenario run: `key` names its result in latest.json."""

    key: str
    scenario: str  # a name in benchmarks.child.SCENARIOS
    params: dict[str, Any] = field(default_factory=dict)
    wave: int = 0
    background: bool = False
    nice: int = 0  # CPU priority of the child (19: only what the others leave)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass
class StepOutcome:
    key: str
    ok: bool
    result: dict[str, Any] | None
    error: str | None
    seconds: float
    child_max_rss_mb: float | None = None

    def as_json(self) -> dict[str, Any]:
        if self.ok and self.result is not None:
            return self.result
        return {"error": self.error or "failed"}


class _Running:
    def __init__(self, step: Step, scratch: Path) -> None:
        self.step = step
        self.result_path = scratch / f"{step.key}.json"
        self.log_path = scratch / f"{step.key}.log"
        params = dict(step.params)
        if step.nice:
            params["nice"] = step.nice
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in finish()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child", step.scenario, json.dumps(params), str(self.result_path)],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def timed_out(self) -> bool:
        return time.perf_counter() - self.started > self.step.timeout_seconds

    def finish(self, *, killed: bool = False) -> StepOutcome:
        if killed and self.process.poll() is None:
            # SIGTERM first: the child unwinds and stops its emulator; kill only if it hangs.
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        seconds = time.perf_counter() - self.started
        if self.result_path.exists():
            outcome = json.loads(self.result_path.read_text(encoding="utf-8"))
            return StepOutcome(self.step.key, bool(outcome.get("ok")), outcome.get("result"),
                               outcome.get("error"), seconds, outcome.get("child_max_rss_mb"))
        tail = self.log_path.read_bytes()[-1500:].decode(errors="replace")
        reason = "timed out" if killed else f"exited with code {self.process.returncode}"
        return StepOutcome(self.step.key, False, None, f"{reason} without a result; log tail: {tail}", seconds)


def run_plan(steps: list[Step], *, log: Callable[[str], None] = print) -> dict[str, StepOutcome]:
    """Run every step; a failed step is recorded, never raised."""
    outcomes: dict[str, StepOutcome] = {}
    with tempfile.TemporaryDirectory(prefix="bench-run-") as scratch_dir:
        scratch = Path(scratch_dir)
        background = [_Running(step, scratch) for step in steps if step.background]
        for step in background:
            niceness = f", nice {step.step.nice}" if step.step.nice else ""
            log(f"  started {step.step.key} in the background{niceness}")
        for wave in sorted({step.wave for step in steps if not step.background}):
            running = [_Running(step, scratch) for step in steps if step.wave == wave and not step.background]
            log(f"  wave {wave}: {', '.join(r.step.key for r in running)}")
            _wait_all(running, outcomes, log, background=background)
        _wait_all(background, outcomes, log)
    return outcomes


def _wait_all(
    running: list[_Running],
    outcomes: dict[str, StepOutcome],
    log: Callable[[str], None],
    *,
    background: list[_Running] | None = None,
) -> None:
    """Wait for every step of `running`; meanwhile collect any `background` step that ends."""
    pending = list(running)
    while pending:
        for group in (pending, background if background is not None else []):
            for item in list(group):
                if item.process.poll() is not None or item.timed_out():
                    outcome = item.finish(killed=item.process.poll() is None)
                    outcomes[item.step.key] = outcome
                    group.remove(item)
                    state = "ok" if outcome.ok else f"FAILED: {(outcome.error or '')[:300]}"
                    log(f"    {item.step.key} finished in {outcome.seconds:.1f}s ({state})")
        time.sleep(0.2)
