"""`python -m benchmarks.chaos`: run the chaos scenarios in order, print each one's figures as it
ends, write perf_reports/reliability.md, and exit non-zero unless every scenario passed.

A scenario module that does not exist yet is reported as "not built" (and not passed), so the
report never hides a missing part of the suite.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .project import prepare_environment
from .report import ROOT, print_result, render, write
from .result import ScenarioResult

SCENARIOS = ("faults", "corpus", "drift", "kills", "overlap")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the short versions (what make test runs)")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only this scenario (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "perf_reports", help="where reliability.md goes")
    return parser.parse_args(argv)


def run_scenario(name: str, short: bool) -> ScenarioResult:
    """One scenario in a work folder of its own; a crash of the harness is a failed scenario."""
    try:
        module = importlib.import_module(f"benchmarks.chaos.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"benchmarks.chaos.{name}":
            return ScenarioResult(name, problems=[f"the scenario does not import: {exc}"])
        return ScenarioResult(name, figures={"not_built": True}, problems=["not built"])
    except Exception as exc:  # noqa: BLE001 - reported, and the next scenario still runs
        traceback.print_exc()
        return ScenarioResult(name, problems=[f"the scenario does not import: {type(exc).__name__}: {exc}"[:400]])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"chaos-{name}-") as workdir:
        try:
            result = module.run(short, Path(workdir))
        except Exception as exc:  # noqa: BLE001 - reported, and the next scenario still runs
            traceback.print_exc()
            result = ScenarioResult(name, problems=[f"the scenario crashed: {type(exc).__name__}: {exc}"[:400]])
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    prepare_environment()
    names = [name for name in SCENARIOS if not args.only or name in args.only]
    load_before = os.getloadavg()
    results = []
    for name in names:
        print(f"chaos: {name} ({'short' if args.short else 'long'}) ...", flush=True)
        result = run_scenario(name, args.short)
        print_result(result)
        results.append(result)
    command = "python -m benchmarks.chaos " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(results, command=command.strip(), load_before=load_before, load_after=os.getloadavg(),
                  short=args.short)
    print(f"chaos: report in {write(text, args.out)}")
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
