"""perf_reports/reliability.md: what one `make chaos` found, for the issue and for the next reader."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from .result import ScenarioResult

ROOT = Path(__file__).resolve().parents[2]


def git_commit() -> str:
    """HEAD, marked dirty when the working tree differs from it (the figures are of the tree)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (dirty tree)" if git("status", "--porcelain", "--untracked-files=no") else "")


def status_of(result: ScenarioResult) -> str:
    if result.figures.get("not_built"):
        return "not built"
    return "yes" if result.passed else "**no**"


def figures_text(result: ScenarioResult) -> str:
    return ", ".join(f"{name} {value}" for name, value in result.figures.items() if name != "not_built")


def render(results: Sequence[ScenarioResult], *, command: str, load_before: Sequence[float],
           load_after: Sequence[float], short: bool) -> str:
    passed = sum(result.passed for result in results)
    lines = [
        "# Reliability: the chaos suite",
        "",
        f"`{command}` at {git_commit()}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{'short' if short else 'long'} versions: {passed} of {len(results)} scenarios passed.",
        "",
        f"Machine load average (1, 5, 15 min) before {_load(load_before)}, after {_load(load_after)}.",
        "",
        "| scenario | passed | seconds | figures |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r.name} | {status_of(r)} | {r.seconds:.1f} | {figures_text(r).replace('|', '/')} |"
              for r in results]
    lines += ["", "## Problems", ""]
    problems = [f"- **{r.name}**: {problem}" for r in results for problem in r.problems]
    lines += problems or ["None: every invariant held."]
    return "\n".join(lines) + "\n"


def _load(load: Sequence[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def write(text: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "reliability.md"
    path.write_text(text, encoding="utf-8")
    return path


def print_result(result: ScenarioResult) -> None:
    print(f"{result.name:8} {status_of(result):9} {result.seconds:7.1f}s  {figures_text(result)}", flush=True)
    for problem in result.problems:
        print(f"         problem: {problem}", flush=True)
