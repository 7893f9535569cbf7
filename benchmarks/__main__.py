"""`python -m benchmarks [--quick] [--profile] [--fail-on-regression]`: run the benchmarks against
the emulator and write perf_reports/ (latest.json, latest.md, CSV rows, PNG charts).

`make bench-quick` runs the subset the issue's targets are judged on (under 5 minutes on 2 cores);
`make bench` runs the full matrix. Nothing here is part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import charts, markdown, report
from benchmarks.compare import regressions
from benchmarks.emulator_process import ROOT
from benchmarks.plan import full_plan, quick_plan
from benchmarks.runner import run_plan

DEFAULT_OUT = ROOT / "perf_reports"
PROFILE_NAME = "profile_sync_full"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the subset for the targets (under 5 minutes)")
    parser.add_argument("--profile", action="store_true",
                        help=f"write a pyinstrument profile of the full sync to {PROFILE_NAME}.html/.txt")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 when a figure is more than 15%% worse than baseline.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (default perf_reports/)")
    parser.add_argument("--baseline", type=Path, help="the report to compare with (default OUT/baseline.json)")
    parser.add_argument("--write-baseline", action="store_true", help="also save this report as OUT/baseline.json")
    parser.add_argument("--only", help="comma-separated step keys to run (for trying a scenario out)")
    return parser.parse_args(argv)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    profile_path = out_dir / PROFILE_NAME if args.profile else None
    steps = quick_plan(profile_path=profile_path) if args.quick else full_plan(profile_path=profile_path)
    if args.only:
        wanted = {key.strip() for key in args.only.split(",")}
        steps = [step for step in steps if step.key in wanted]
    mode = "quick" if args.quick else "full"
    command = "make bench-quick" if args.quick else "make bench"

    load_before = os.getloadavg()[0]
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    print(f"benchmarks ({mode}): {len(steps)} steps, load average {_load()}", flush=True)
    outcomes = run_plan(steps, log=lambda line: print(line, flush=True))
    wall = time.perf_counter() - started

    cpu_count = os.cpu_count() or 1
    meta = {
        "mode": mode,
        "command": command + (" (--only " + args.only + ")" if args.only else ""),
        "started_at": started_at,
        "wall_seconds": round(wall, 1),
        "cpu_count": cpu_count,
        "load_before": f"{load_before:.2f}",
        "load_after": f"{os.getloadavg()[0]:.2f}",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "steps": {key: {"ok": o.ok, "seconds": round(o.seconds, 1), "child_max_rss_mb": o.child_max_rss_mb}
                  for key, o in outcomes.items()},
        "profile": f"{PROFILE_NAME}.html" if args.profile else None,
    }
    if load_before > cpu_count:
        meta["load_warning"] = (f"the machine was busy when this run started (load {load_before:.1f} on "
                                f"{cpu_count} CPUs): times are longer than on an idle machine")

    baseline_path = args.baseline or out_dir / "baseline.json"
    baseline = json.loads(baseline_path.read_text(encoding="utf-8")) if baseline_path.exists() else None
    try:
        shown_path = str(baseline_path.resolve().relative_to(ROOT))
    except ValueError:
        shown_path = str(baseline_path)
    latest = report.build_report(outcomes, meta=meta, baseline=baseline, baseline_file=shown_path)
    report.write_json(latest, out_dir / "latest.json")
    report.write_csvs(latest, out_dir)
    charts.write_charts(latest, out_dir)
    (out_dir / "latest.md").write_text(markdown.render(latest), encoding="utf-8")
    if args.write_baseline:
        shutil.copyfile(out_dir / "latest.json", out_dir / "baseline.json")

    statuses = [t["status"] for t in latest["targets"]]
    print(f"\nwrote {out_dir}/latest.md and latest.json in {wall:.0f}s: "
          f"{statuses.count('pass')} targets pass, {statuses.count('miss')} miss, "
          f"{statuses.count('error')} error, {statuses.count('not run')} not run")
    for target in latest["targets"]:
        if target["status"] in ("miss", "error"):
            print(f"  {target['status']}: {target['name']}: {markdown.fmt(target['value'], target['unit'])} "
                  f"(target {target['op']} {markdown.fmt(target['bound_value'], target['unit'])})")
    regressed = regressions(latest["comparison"]["rows"])
    for row in regressed:
        print(f"  regression: {row['figure']} {row['baseline']} -> {row['latest']}")
    if args.fail_on_regression and regressed:
        print(f"{len(regressed)} figure(s) more than 15% worse than {baseline_path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
