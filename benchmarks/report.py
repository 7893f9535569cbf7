"""latest.json from the steps' results; latest.md and the CSV rows from latest.json.

latest.json holds the issue's keys (sync_full, sync_full_baseline, sync_incremental, upsert,
packages, e2e, memory), the ratios against the baseline client, the matrix, the targets and the
comparison with baseline.json, and `stores` when the many-store run was part of it. A scenario
that failed holds {"error": ...} under its key.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.compare import compare, regressions
from benchmarks.targets import evaluate_all

HEADLINE_KEYS = ("sync_full", "sync_full_baseline", "sync_incremental", "upsert", "packages", "e2e", "memory")
HEADLINE_PACKAGE_IMAGES = 10
# The baseline client's efficiency swings run to run (its threads' backoffs fall in step or not),
# so it runs several times side by side and the median run by efficiency stands for it.
REPEAT_SEPARATOR = "_repeat_"
REPEAT_FIGURES = ("efficiency", "wall_seconds", "ratio_429", "responses_429", "details_per_second")
SYNC_COLUMNS = (
    "run", "client", "kind", "products", "rate_per_s", "page_size", "concurrency", "peak_concurrency",
    "latency_ms", "floor_seconds", "wall_seconds", "efficiency", "ratio_429", "responses_429", "api_calls",
    "details_fetched", "details_per_second", "detail_p50_ms", "detail_p95_ms", "detail_p99_ms", "db_seconds",
    "errors", "backoff_base_seconds",
)


def _section(outcomes: Mapping[str, Any], key: str) -> dict[str, Any]:
    outcome = outcomes.get(key)
    if outcome is None:
        return {"not_run": "not part of this run"}
    return outcome.as_json()


def _ratio(ours: Any, theirs: Any) -> float | None:
    if not isinstance(ours, (int, float)) or not isinstance(theirs, (int, float)) or not theirs:
        return None
    return round(ours / theirs, 4)


def ratios(ours: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """Ours against the baseline client of the same run: efficiency and 429 responses."""
    ours_429, baseline_429 = ours.get("responses_429"), baseline.get("responses_429")
    fewer = None
    if isinstance(ours_429, int) and isinstance(baseline_429, int):
        fewer = "no 429 either side" if not baseline_429 and not ours_429 else (
            "infinite (ours had none)" if not ours_429 else round(baseline_429 / ours_429, 2))
    return {
        "efficiency_ratio": _ratio(ours.get("efficiency"), baseline.get("efficiency")),
        "ratio_429": _ratio(ours_429, baseline_429),
        "ratio_429_of_ratios": _ratio(ours.get("ratio_429"), baseline.get("ratio_429")),
        "wall_ratio": _ratio(ours.get("wall_seconds"), baseline.get("wall_seconds")),
        "api_calls_ratio": _ratio(ours.get("api_calls"), baseline.get("api_calls")),
        "ours_429": ours_429,
        "baseline_429": baseline_429,
        "fewer_429_factor": fewer,
    }


def vs_baseline(ours: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The issue's three ratios against the baseline client: 429 responses and API calls against
    its median run, efficiency against its best run (the `repeats` side by side)."""
    runs = [run.get("efficiency") for run in baseline.get("repeats", [baseline])]
    best = max((value for value in runs if isinstance(value, (int, float))), default=None)
    return {
        "responses_429_ratio": _ratio(ours.get("responses_429"), baseline.get("responses_429")),
        "calls_ratio": _ratio(ours.get("api_calls"), baseline.get("api_calls")),
        "efficiency_vs_best_baseline": _ratio(ours.get("efficiency"), best),
        "best_baseline_efficiency": best,
        "baseline_runs": len(runs),
    }


def _packages_section(raw: dict[str, Any]) -> dict[str, Any]:
    """The 10-image build's figures at the top, every build under `builds`."""
    if not _measured(raw):
        return dict(raw)
    builds = raw.get("builds", [])
    headline = next((b for b in builds if b.get("images") == HEADLINE_PACKAGE_IMAGES), builds[0] if builds else {})
    section = {key: headline.get(key) for key in (
        "images", "build_p95_seconds", "unchanged_rebuild_bytes_written", "packages_per_minute", "build_p50_seconds",
        "packages_built", "products", "bytes_written", "unchanged_rebuild_packages_unchanged", "stage_seconds",
        "passes", "build_p95_seconds_of_passes")}
    if "error" in headline:
        section["error"] = headline["error"]
    section["builds"] = builds
    section["image_pool"] = raw.get("image_pool")
    section["compression"] = raw.get("compression")
    return section


def _measured(section: Mapping[str, Any]) -> bool:
    return "error" not in section and "not_run" not in section


def median_of_repeats(sections: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The run with the median efficiency (the lower middle one of an even count), with every
    run's main figures under `repeats`."""
    measured = [section for section in sections if _measured(section) and section.get("efficiency") is not None]
    if not measured:
        return dict(sections[0]) if sections else {"not_run": "not part of this run"}
    ordered = sorted(measured, key=lambda section: section["efficiency"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(sections) > 1:
        chosen["repeats"] = [
            {figure: section.get(figure) for figure in REPEAT_FIGURES} if _measured(section)
            else {"error": section.get("error", "not run")}
            for section in sections
        ]
        chosen["repeat_note"] = f"median by efficiency of {len(measured)} run(s) side by side"
    return chosen


def _sync_row(run: str, figures: Mapping[str, Any]) -> dict[str, Any]:
    row = {column: figures.get(column) for column in SYNC_COLUMNS}
    row["run"] = run
    return row


def build_report(
    outcomes: Mapping[str, Any],
    *,
    meta: dict[str, Any],
    baseline: Mapping[str, Any] | None,
    baseline_file: str = "perf_reports/baseline.json",
) -> dict[str, Any]:
    report: dict[str, Any] = {"meta": meta}
    for key in HEADLINE_KEYS:
        report[key] = _section(outcomes, key)
    repeats: dict[str, list[str]] = {}
    for key in sorted(outcomes):
        if REPEAT_SEPARATOR in key:
            repeats.setdefault(key.split(REPEAT_SEPARATOR)[0], []).append(key)
    for key, others in repeats.items():
        report[key] = median_of_repeats([_section(outcomes, key)] + [_section(outcomes, other) for other in others])
    upsert_matrix = report["upsert"].pop("matrix", None)
    report["packages"] = _packages_section(report["packages"])
    if "e2e_busy" in outcomes:  # the same run beside a CPU hog (benchmarks/scenarios/e2e.py)
        report["e2e_busy"] = _section(outcomes, "e2e_busy")
        if _measured(report["e2e"]):
            report["e2e"]["overhead_busy_seconds"] = report["e2e_busy"].get("overhead_seconds")
    if "memory_1m" in outcomes:  # the full run's million-product sync, beside the 100k figure
        report["memory_1m"] = _section(outcomes, "memory_1m")
        if _measured(report["memory"]):
            report["memory"]["peak_rss_1m_mb"] = report["memory_1m"].get("peak_rss_mb")
    report["ratios"] = ratios(report["sync_full"], report["sync_full_baseline"])
    report["vs_baseline"] = vs_baseline(report["sync_full"], report["sync_full_baseline"])
    extra_syncs = sorted(key for key in outcomes if key.startswith("sync_") and key not in HEADLINE_KEYS
                         and REPEAT_SEPARATOR not in key)
    for key in extra_syncs:
        report.setdefault(key, _section(outcomes, key))
    if "sync_full_2rps" in outcomes:
        report["ratios_2rps"] = ratios(report["sync_full_2rps"], report["sync_full_2rps_baseline"])
        report["vs_baseline_2rps"] = vs_baseline(report["sync_full_2rps"], report["sync_full_2rps_baseline"])
    # Every other step under its own key: the many-store runs (stores, stores_postgres, ...), the
    # Postgres catalog (postgres), whatever a plan adds.
    for key in sorted(outcomes):
        if key not in report and REPEAT_SEPARATOR not in key:
            report[key] = _section(outcomes, key)

    sync_rows = [_sync_row(key, report[key]) for key in ("sync_full", "sync_full_baseline", "sync_incremental",
                                                          *extra_syncs) if _measured(report[key])]
    report["matrix"] = {
        "sync": sync_rows,
        "upsert": upsert_matrix,
        "packages": report["packages"].get("builds", []),
    }
    report["targets"] = evaluate_all(report)
    if baseline is not None:
        rows = compare(report, baseline)
        report["comparison"] = {
            "baseline_file": baseline_file,
            "baseline_mode": (baseline.get("meta") or {}).get("mode"),
            "baseline_started_at": (baseline.get("meta") or {}).get("started_at"),
            "threshold": 0.15,
            "rows": rows,
            "regressions": len(regressions(rows)),
        }
    else:
        report["comparison"] = {"baseline_file": baseline_file, "rows": [], "regressions": 0,
                                "note": f"no {baseline_file} to compare with"}
    return report


# -- CSV --------------------------------------------------------------------------------------


def _flatten(prefix: str, value: Any, into: list[tuple[str, Any]]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, into)
    elif isinstance(value, list):
        return  # lists (builds, matrix rows) have CSV files of their own
    else:
        into.append((prefix, value))


def write_csvs(report: Mapping[str, Any], out_dir: Path) -> list[Path]:
    written = []
    figures: list[tuple[str, Any]] = []
    for key in report:
        if key not in ("meta", "matrix", "targets", "comparison"):
            _flatten(key, report[key], figures)
    path = out_dir / "figures.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["figure", "value"])
        writer.writerows(figures)
    written.append(path)

    path = out_dir / "runs_sync.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SYNC_COLUMNS)
        writer.writeheader()
        writer.writerows(report["matrix"]["sync"])
    written.append(path)

    upsert_rows = _upsert_rows(report)
    path = out_dir / "runs_upsert.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["experiment", "variant", "rows", "seconds", "rows_written",
                                                    "rows_per_second", "note"])
        writer.writeheader()
        writer.writerows(upsert_rows)
    written.append(path)

    path = out_dir / "runs_packages.csv"
    columns = ["images", "products", "packages_built", "build_p50_seconds", "build_p95_seconds", "bytes_written",
               "packages_per_minute", "unchanged_rebuild_bytes_written", "unchanged_rebuild_packages_unchanged",
               "error"]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(report["matrix"]["packages"])
    written.append(path)
    return written


def _upsert_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    upsert = report.get("upsert", {})
    rows: list[dict[str, Any]] = []
    if not _measured(upsert):
        return rows
    rows.append({"experiment": "single call", "variant": "10k rows, empty table", "rows": upsert.get("small_rows"),
                 "seconds": upsert.get("rows_10k_seconds"), "rows_written": upsert.get("rows_10k_written")})
    rows.append({"experiment": "single call", "variant": "1M rows, empty table", "rows": upsert.get("large_rows"),
                 "seconds": upsert.get("rows_1m_seconds"), "rows_written": upsert.get("rows_1m_written")})
    rows.append({"experiment": "single call", "variant": "1M rows, nothing changed", "rows": upsert.get("large_rows"),
                 "seconds": upsert.get("noop_1m_seconds"), "rows_written": upsert.get("noop_1m_rows_written")})
    matrix = report["matrix"].get("upsert") or {}
    for strategy in matrix.get("commit_strategies", []):
        batch = strategy["batch_rows"]
        rows.append({
            "experiment": "commit strategy", "variant": "row by row" if batch == 1 else f"batches of {batch}",
            "rows": strategy["rows"], "seconds": strategy["seconds"], "rows_written": strategy["rows_written"],
            "rows_per_second": strategy["rows_per_second"],
            "note": f"extrapolated from {strategy['rows_measured']} rows" if strategy.get("extrapolated") else "",
        })
    for item in matrix.get("index", []):
        rows.append({"experiment": "index", "variant": f"{item['index']}: insert", "rows": item["rows"],
                     "seconds": item["insert_seconds"], "rows_written": item["rows"]})
        rows.append({"experiment": "index", "variant": f"{item['index']}: update 10%", "rows": item["rows"],
                     "seconds": item["update_10pct_seconds"], "rows_written": item["update_10pct_rows_written"]})
    for item in matrix.get("hash_skip", []):
        rows.append({"experiment": "hash skip", "variant": "on" if item["skip_unchanged"] else "off",
                     "rows": item["rows"], "seconds": item["seconds"], "rows_written": item["rows_written"],
                     "note": "re-upsert of unchanged rows"})
    for row in rows:
        if row.get("rows_per_second") is None and row.get("seconds"):
            row["rows_per_second"] = round(row["rows"] / row["seconds"], 1)
    return rows


def write_json(report: Mapping[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
