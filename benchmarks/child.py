"""`python -m benchmarks.child SCENARIO PARAMS_JSON RESULT_PATH`: run one scenario in this process.

Each scenario runs in a process of its own: its own GIL, its own memory high-water mark, and a
crash (say, of a builder being rewritten) is reported instead of ending the whole benchmark.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# scenario name -> "module:function" under benchmarks.scenarios
SCENARIOS = {
    "sync": "sync:run_ours",
    "sync_baseline": "sync:run_baseline",
    "sync_incremental": "sync:run_incremental",
    "upsert": "upsert:run",
    "packages": "packages:run",
    "e2e": "e2e:run",
    "draw_pictures": "e2e:draw_pictures",
    "memory": "memory:run",
    "stores": "stores:run",
    "postgres": "postgres:run",
    "sync_dlt": "dlt_peer:run",
}


def run(name: str, params: dict) -> dict:
    module_name, function_name = SCENARIOS[name].split(":")
    module = importlib.import_module(f"benchmarks.scenarios.{module_name}")
    return getattr(module, function_name)(params)


def main(argv: list[str]) -> int:
    name, params_json, result_path = argv
    params = json.loads(params_json)
    # The harness ends a step that runs too long with SIGTERM: unwind, so the scenario's
    # emulator process is stopped too instead of being left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if params.get("nice"):
        os.nice(int(params["nice"]))
    sys.path.insert(0, str(ROOT))
    started = time.perf_counter()
    try:
        outcome = {"ok": True, "result": run(name, params)}
    except BaseException as exc:  # noqa: BLE001 - reported to the harness, which records it
        outcome = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}".strip()[:2000],
            "traceback": traceback.format_exc()[-6000:],
        }
    outcome["seconds"] = round(time.perf_counter() - started, 3)
    outcome["child_max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    Path(result_path).write_text(json.dumps(outcome, default=str), encoding="utf-8")
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
