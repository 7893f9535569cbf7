"""Chaos scenario `kills`: `scripts/run.py` (what `make run` runs) SIGKILLed, process group and all,
at seeded random moments of its sync and package runs, with the seller editing and deleting products
between kills; then one clean run, which must leave the store converged (see converged.py).

A kill is aimed at a phase (sync or packages, chosen at random), struck a random delay after the
run of that phase appears in the Dagster instance, and counted where it actually landed.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.chaos.converged import check_converged
from benchmarks.chaos.emulator_catalog import read_catalog
from benchmarks.chaos.result import ScenarioResult
from benchmarks.chaos.user_runs import UserSetup, kill_group, last_run_id, phase_of, runs_after, start_run
from benchmarks.emulator_process import EmulatorProcess

PHASE_TIMEOUT_SECONDS = 180.0


@dataclass(frozen=True)
class KillPlan:
    products: int
    kills: int
    rate: float = 200.0  # requests/s per API: a sync of a few seconds, so kills reach both phases
    seed: int = 11
    modify_fraction: float = 0.05  # of the live products, changed between two kills
    sync_window: float = 6.0  # a sync kill strikes uniformly within this many seconds of the run's start
    package_window: float = 1.5  # the package run mostly publishes what the sync staged: it is short
    clean_run_timeout: float = 600.0


LONG = KillPlan(products=300, kills=24)
SHORT = KillPlan(products=80, kills=4, sync_window=3.0, package_window=0.5, clean_run_timeout=180.0)


def run(short: bool, workdir: Path) -> ScenarioResult:
    plan = SHORT if short else LONG
    result = ScenarioResult("kills")
    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    with EmulatorProcess(products=plan.products, rate=plan.rate, seed=plan.seed) as emulator:
        setup = UserSetup(workdir, emulator.base_url)
        log_path = workdir / "runs.log"
        landed = _kill_repeatedly(setup, emulator, plan, log_path, result)
        clean_seconds = _clean_run(setup, plan, log_path, result)
        check_converged(result, setup.database_path, setup.packages_dir, read_catalog(emulator.base_url))
    result.check(landed["total"] >= plan.kills, f"only {landed['total']} of {plan.kills} kills landed on a live run")
    result.figures = {
        "products": plan.products,
        "kills": landed["total"],
        "kills_in_sync": landed["sync"],
        "kills_in_packages": landed["packages"],
        "kills_elsewhere": landed["total"] - landed["sync"] - landed["packages"],  # start-up, between runs
        "runs_finished_before_their_kill": landed["missed"],
        "products_modified": landed["modified"],
        "products_deleted": landed["deleted"],
        "clean_run_seconds": clean_seconds,
        **result.figures,
    }
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def _kill_repeatedly(setup: UserSetup, emulator: EmulatorProcess, plan: KillPlan, log_path: Path,
                     result: ScenarioResult) -> Counter[str]:
    """Kill runs until `plan.kills` kills landed, at least one in each phase (at most three times as
    many tries: a short package run often ends before its kill); between two tries the seller
    changes some products and, every third time, deletes one."""
    rng = random.Random(plan.seed)
    landed: Counter[str] = Counter()
    for attempt in range(3 * plan.kills):
        if landed["total"] >= plan.kills and landed["sync"] and landed["packages"]:
            break
        target = rng.choice(["sync", "packages"])
        if landed["total"] >= plan.kills - 1:  # the last kills go where none has landed yet
            target = next((phase for phase in ("sync", "packages") if not landed[phase]), target)
        window = plan.sync_window if target == "sync" else plan.package_window
        phase = _kill_once(setup, target, rng.uniform(0.0, window), log_path, result)
        if phase is None:
            landed["missed"] += 1
        else:
            landed["total"] += 1
            landed[phase] += 1
        changed = emulator.modify(plan.modify_fraction, seed=plan.seed * 1000 + attempt)
        landed["modified"] += len(changed)
        if attempt % 3 == 2 and changed:
            _delete(emulator, rng.choice(changed))
            landed["deleted"] += 1
    return landed


def _kill_once(setup: UserSetup, target: str, delay: float, log_path: Path, result: ScenarioResult) -> str | None:
    """Start a run, SIGKILL its process group `delay` s into the `target` phase; return the phase the
    kill landed in, None when the run finished first."""
    before = last_run_id(setup)
    process = start_run(setup, log_path)
    deadline = time.monotonic() + PHASE_TIMEOUT_SECONDS
    while phase_of(runs_after(setup, before)) not in _reached(target):
        if process.poll() is not None:
            _note_exit(process, log_path, result)
            return None
        if time.monotonic() > deadline:
            kill_group(process)
            result.check(False, f"a run never reached its {target} phase within {PHASE_TIMEOUT_SECONDS:.0f} s")
            return None
        time.sleep(0.02)
    strike_at = time.monotonic() + delay
    while time.monotonic() < strike_at and process.poll() is None:
        time.sleep(0.01)
    phase = phase_of(runs_after(setup, before))
    if not kill_group(process):
        _note_exit(process, log_path, result)
        return None
    with log_path.open("a") as log:
        log.write(f"\n=== chaos: SIGKILL in phase {phase} ({target} + {delay:.2f} s) ===\n")
    return phase


def _reached(target: str) -> set[str]:
    """Phases at or past `target`: a sync that ended before it was seen still lets a kill go."""
    return {"sync", "between", "packages", "finishing"} if target == "sync" else {"packages", "finishing"}


def _note_exit(process: subprocess.Popen[bytes], log_path: Path, result: ScenarioResult) -> None:
    """A run that ended by itself between kills must have succeeded: the run before it was killed."""
    result.check(process.returncode == 0, f"a run between kills exited with {process.returncode}: "
                                          f"{_tail(log_path)}")


def _clean_run(setup: UserSetup, plan: KillPlan, log_path: Path, result: ScenarioResult) -> float | None:
    """One run left alone; the seconds it took to converge, None when it did not finish."""
    with log_path.open("a") as log:
        log.write("\n=== chaos: the clean run ===\n")
    started = time.perf_counter()
    process = start_run(setup, log_path)
    try:
        process.wait(timeout=plan.clean_run_timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        result.check(False, f"the clean run did not finish within {plan.clean_run_timeout:.0f} s: {_tail(log_path)}")
        return None
    result.check(process.returncode == 0, f"the clean run exited with {process.returncode}: {_tail(log_path)}")
    return round(time.perf_counter() - started, 1)


def _delete(emulator: EmulatorProcess, number: int) -> None:
    response = httpx.post(f"{emulator.root_url}/_emulator/delete", json={"origin_product_nos": [number]}, timeout=30)
    response.raise_for_status()


def _tail(log_path: Path, characters: int = 600) -> str:
    return " ".join(log_path.read_text(errors="replace")[-characters:].split())
