"""latest.md: every target with our figure, the bound, pass/miss and the baseline beside it,
then each scenario's figures, the matrix, and the comparison with baseline.json."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.compare import HIGHER

STATUS_TEXT = {"pass": "✅ pass", "miss": "❌ miss", "not run": "— not run", "error": "⚠️ error"}
CHARTS = (
    ("throughput_vs_concurrency.png", "Detail throughput vs concurrency"),
    ("latency_percentiles.png", "p50 / p95 / p99 per stage"),
    ("ratio_429.png", "429 ratio per sync run"),
)


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:,.4f}" if abs(value) < 1 else f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".strip() if unit and unit != "x" else (f"{text}x" if unit == "x" else text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _error_line(section: Mapping[str, Any]) -> list[str]:
    if "not_run" in section:
        return ["*Not part of this run.*", ""]
    return [f"**Failed:** `{str(section['error'])[:600]}`", ""] if "error" in section else []


def _skip(section: Mapping[str, Any]) -> bool:
    return "error" in section or "not_run" in section


def _targets(report: Mapping[str, Any]) -> list[str]:
    rows = []
    for target in report["targets"]:
        bound = target["bound"]
        bound_text = f"{target['op']} {fmt(target['bound_value'], target['unit'])}" if not isinstance(bound, str) \
            else f"{target['op']} `{bound}` ({fmt(target['bound_value'])})"
        name = target["name"] + (" *(full bench)*" if target["full_only"] else "")
        note = f" — {target['note']}" if target["note"] else ""
        rows.append([name, fmt(target["value"], target["unit"]), fmt(target["baseline"], target["unit"]),
                     bound_text + note, STATUS_TEXT[target["status"]]])
    counts = {status: sum(1 for t in report["targets"] if t["status"] == status) for status in STATUS_TEXT}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return ["## Targets", "", f"{summary}.", ""] + _table(
        ["target", "ours", "beside it (the baseline client unless noted)", "target", "result"], rows)


def _sync_side_by_side(report: Mapping[str, Any], ours_key: str, baseline_key: str, title: str) -> list[str]:
    ours, baseline = report.get(ours_key, {}), report.get(baseline_key, {})
    lines = [f"## {title}", ""]
    lines += _error_line(ours) + _error_line(baseline)
    if _skip(ours) and _skip(baseline):
        return lines
    figures = (
        ("products", ""), ("rate_per_s", "req/s"), ("floor_seconds", "s"), ("wall_seconds", "s"),
        ("efficiency", ""), ("ratio_429", ""), ("responses_429", ""), ("api_calls", ""),
        ("detail_p50_ms", "ms"), ("detail_p95_ms", "ms"), ("detail_p99_ms", "ms"), ("details_per_second", "/s"),
        ("concurrency", ""), ("peak_concurrency", ""), ("db_seconds", "s"), ("errors", ""),
    )
    rows = [[name, fmt(ours.get(name), unit), fmt(baseline.get(name), unit)] for name, unit in figures]
    lines += _table(["figure", "ours", "baseline client"], rows)
    for name, section in (("ours", ours), ("baseline client", baseline)):
        if section.get("repeats"):
            runs = "; ".join(
                f"efficiency {fmt(run.get('efficiency'))}, wall {fmt(run.get('wall_seconds'), 's')}, "
                f"{fmt(run.get('responses_429'))} x 429" if "error" not in run else f"failed: {run['error'][:100]}"
                for run in section["repeats"])
            lines += [f"The {name} column is the {section['repeat_note']}: {runs}.", ""]
    latency = ours.get("latency_ms")
    if latency is not None:
        lines += [f"Emulator latency {fmt(latency)} ± {fmt(ours.get('latency_jitter_ms'))} ms per API response; "
                  "each client on a fresh emulator process (fresh buckets) and a fresh DuckDB file. "
                  "Floors from the emulator's own counts (429s excluded), for both clients alike.", ""]
    return lines


def _ratios(report: Mapping[str, Any], key: str) -> list[str]:
    ratios = report.get(key) or {}
    against = report.get(key.replace("ratios", "vs_baseline")) or {}
    return [
        f"Against the baseline (`{key.replace('ratios', 'vs_baseline')}`): 429 responses "
        f"**{fmt(against.get('responses_429_ratio'), 'x')}**, API calls **{fmt(against.get('calls_ratio'), 'x')}**, "
        f"efficiency **{fmt(against.get('efficiency_vs_best_baseline'), 'x')}** of its best of "
        f"{fmt(against.get('baseline_runs'))} run(s) ({fmt(against.get('best_baseline_efficiency'))}).", "",
        f"Ratios (ours / baseline): efficiency **{fmt(ratios.get('efficiency_ratio'), 'x')}**, "
        f"429 responses **{fmt(ratios.get('ratio_429'), 'x')}** ({fmt(ratios.get('ours_429'))} vs "
        f"{fmt(ratios.get('baseline_429'))}; fewer by {fmt(ratios.get('fewer_429_factor'))}), "
        f"wall {fmt(ratios.get('wall_ratio'), 'x')}, API calls {fmt(ratios.get('api_calls_ratio'), 'x')}.",
        "",
    ]


def _peer(report: Mapping[str, Any]) -> list[str]:
    """Ours, the baseline client and dlt's idiomatic pipeline (benchmarks/scenarios/dlt_peer.py)."""
    runs = [(rate, key, name) for rate, prefix in (("20 req/s", "sync_full"), ("2 req/s", "sync_full_2rps"))
            for key, name in ((prefix, "ours"), (f"{prefix}_baseline", "baseline client"), (f"{prefix}_dlt", "dlt"))]
    if not any(key.endswith("_dlt") and key in report for _, key, _ in runs):
        return []
    rows = []
    for rate, key, name in runs:
        section = report.get(key)
        if not isinstance(section, Mapping) or "not_run" in section:
            continue
        if "error" in section:
            rows.append([rate, name, "failed", "", "", "", str(section["error"])[:120]])
            continue
        stored = (section.get("rows") or {}).get("product_details", section.get("details_fetched"))
        bad = (section.get("rows") or {}).get("details_without_product")
        problem = section.get("pipeline_error") or (f"{bad} stored details are 429 bodies" if bad else "")
        rows.append([rate, name, fmt(section.get("efficiency")), fmt(section.get("api_calls")),
                     fmt(section.get("responses_429")), fmt(stored), problem])
    return ["## A real peer: dlt's REST client, side by side", "",
            *_table(["rate", "client", "efficiency", "API calls", "429s", "details stored", "failure"], rows),
            "dlt's `RESTClient`, a bcrypt client-credentials auth subclass, a page-number paginator, a parallelized "
            "details transformer and `merge` into DuckDB, with dlt's default retries (no pacing): "
            "`benchmarks/scenarios/dlt_peer.py`, from the optional `peer` extra.", ""]


def _incremental(report: Mapping[str, Any]) -> list[str]:
    section = report["sync_incremental"]
    lines = ["## Incremental sync", ""] + _error_line(section)
    if _skip(section):
        return lines
    lines += _table(["figure", "value"], [
        ["products", fmt(section.get("products"))], ["changed", fmt(section.get("changed"))],
        ["detail_calls (server side)", fmt(section.get("detail_calls"))],
        ["rate", fmt(section.get("rate_per_s"), "req/s")], ["floor_seconds", fmt(section.get("floor_seconds"), "s")],
        ["wall_seconds", fmt(section.get("wall_seconds"), "s")], ["efficiency", fmt(section.get("efficiency"))],
        ["ratio_429", fmt(section.get("ratio_429"))], ["api_calls", fmt(section.get("api_calls"))],
    ])
    lines += [f"Run at {fmt(section.get('rate_per_s'))} req/s, the real API's rate: the store is filled first at a "
              "high rate, 5% of the catalog is modified, the emulator's rate is set to 2 req/s (buckets restart "
              "full), then a fresh client syncs.", ""]
    return lines


def _upsert(report: Mapping[str, Any]) -> list[str]:
    section = report["upsert"]
    lines = ["## Upsert (DuckDB)", ""] + _error_line(section)
    if _skip(section):
        return lines
    lines += _table(["figure", "value"], [
        ["rows_10k_seconds (median)", f"{fmt(section.get('rows_10k_seconds'), 's')} "
                                      f"(samples {', '.join(fmt(s) for s in section.get('rows_10k_samples_seconds', []))})"],
        ["rows_1m_seconds (median)", f"{fmt(section.get('rows_1m_seconds'), 's')} "
                                     f"(samples {', '.join(fmt(s) for s in section.get('rows_1m_samples_seconds', []))})"],
        ["bare INSERT of the same rows, 10k / 1M (median)",
         f"{fmt(section.get('bare_insert_10k_seconds'), 's')} / {fmt(section.get('bare_insert_1m_seconds'), 's')}"],
        ["vs_bare_insert_10k / vs_bare_insert_1m",
         f"**{fmt(section.get('vs_bare_insert_10k'), 'x')}** / **{fmt(section.get('vs_bare_insert_1m'), 'x')}**"],
        ["noop_1m_rows_written", fmt(section.get("noop_1m_rows_written"))],
        ["noop_1m_seconds", fmt(section.get("noop_1m_seconds"), "s")],
        ["rows_10k / rows_1m, the store hashing the HTML",
         f"{fmt(section.get('rows_10k_seconds_hashing_html'), 's')} / {fmt(section.get('rows_1m_seconds_hashing_html'), 's')}"],
        ["batch_vs_row_speedup", fmt(section.get("batch_vs_row_speedup"), "x")],
        ["row by row, per row", fmt(section.get("row_by_row_seconds_per_row"), "s")],
        ["row size (Arrow)", fmt(section.get("row_bytes_in_arrow"), "bytes")],
    ])
    lines += [f"Rows are synthetic, shaped like the emulator's products, and carry the md5 of their detail text "
              f"columns as a sync hands them over (it hashes them as it builds each row from its detail); the "
              f"'hashing the HTML' row is the same upserts without it. {section.get('batch_vs_row_note', '')}.", ""]
    matrix = (report.get("matrix") or {}).get("upsert")
    if matrix:
        lines += ["### Commit strategies (10k rows)", ""]
        lines += _table(["strategy", "seconds", "rows/s", "note"], [
            ["row by row" if s["batch_rows"] == 1 else f"batches of {s['batch_rows']:,}", fmt(s["seconds"], "s"),
             fmt(s["rows_per_second"]), f"extrapolated from {s['rows_measured']:,} rows" if s["extrapolated"] else ""]
            for s in matrix["commit_strategies"]])
        lines += ["### Primary-key index on/off (1M rows)", ""]
        lines += _table(["index", "insert", "update 10%"], [
            [i["index"], fmt(i["insert_seconds"], "s"), fmt(i["update_10pct_seconds"], "s")] for i in matrix["index"]])
        lines += ["### Payload-hash skip on/off (1M unchanged rows re-upserted)", ""]
        lines += _table(["hash skip", "seconds", "rows written"], [
            ["on" if h["skip_unchanged"] else "off", fmt(h["seconds"], "s"), fmt(h["rows_written"])]
            for h in matrix["hash_skip"]])
    return lines


def _packages(report: Mapping[str, Any]) -> list[str]:
    section = report["packages"]
    lines = ["## Package builds", ""] + _error_line(section)
    builds = section.get("builds") or []
    if builds:
        lines += _table(
            ["images", "packages built", "build p50", "build p95", "packages/min", "bytes written",
             "unchanged rebuild: bytes written", "unchanged rebuild: unchanged"],
            [[b.get("images"), fmt(b.get("packages_built")), fmt(b.get("build_p50_seconds"), "s"),
              fmt(b.get("build_p95_seconds"), "s"), fmt(b.get("packages_per_minute")), fmt(b.get("bytes_written")),
              fmt(b.get("unchanged_rebuild_bytes_written")), fmt(b.get("unchanged_rebuild_packages_unchanged"))]
             if "error" not in b else [b.get("images"), f"error: `{b['error'][:300]}`", "", "", "", "", "", ""]
             for b in builds])
        lines += ["The `content_packages` asset alone, over a prepared store of real emulator products whose image "
                  "lists are rebuilt from real catalog image URLs; each image is fetched once beforehand (as a CDN "
                  "would already hold it). The unchanged rebuild queues every product again with nothing changed.", ""]
        passes = [b for b in builds if (b.get("passes") or 1) > 1]
        if passes:
            lines += ["Each row is the median (by p95) of builds from nothing: p95 "
                      + "; ".join(f"{b.get('images')} images {', '.join(fmt(v, 's') for v in b['build_p95_seconds_of_passes'])}"
                                  for b in passes) + ".", ""]
    stages = section.get("stage_seconds") or {}
    if stages:
        lines += ["Stage seconds of the 10-image build (summed over packages): "
                  + ", ".join(f"{k.removesuffix('_seconds')} {fmt(v)}" for k, v in stages.items()), ""]
    lines += ["### Compression (`packages.compression`)", ""]
    compression = section.get("compression") or {}
    lines += _table(["figure", "value"], [[key, fmt(value)] for key, value in compression.items()]) if compression \
        else ["—", ""]
    return lines


def _sync_step_seconds(section: Mapping[str, Any]) -> float | None:
    steps = [step["seconds"] for run in (section.get("timeline") or {}).get("runs", []) for step in run["steps"]
             if step["step"] == "catalog_sync"]
    return steps[0] if steps else None


def _cpu(section: Mapping[str, Any]) -> str:
    cpu = section.get("cpu_seconds") or {}
    return f"{fmt(cpu.get('ours'), 's')} + {fmt(cpu.get('emulator'), 's')}" if cpu else "—"


def _e2e(report: Mapping[str, Any]) -> list[str]:
    section, busy = report["e2e"], report.get("e2e_busy") or {}
    bare = section.get("bare_pictures") or {}
    lines = ["## End to end through Dagster", ""] + _error_line(section)
    if _skip(section):
        return lines
    lines += _table(["figure", "value"], [
        ["products", fmt(section.get("products"))], ["rate", fmt(section.get("rate_per_s"), "req/s")],
        ["wall_seconds", fmt(section.get("wall_seconds"), "s")],
        ["api_floor_seconds", fmt(section.get("api_floor_seconds"), "s")],
        ["overhead_seconds", fmt(section.get("overhead_seconds"), "s")],
        ["overhead_busy_seconds (the same run beside a process keeping one core busy)",
         f"{fmt(section.get('overhead_busy_seconds'), 's')} (wall {fmt(busy.get('wall_seconds'), 's')}, "
         f"floor {fmt(busy.get('api_floor_seconds'), 's')})"],
        ["the sync step (catalog_sync), alone / beside the hog",
         f"{fmt(_sync_step_seconds(section), 's')} / {fmt(_sync_step_seconds(busy), 's')}"],
        ["CPU seconds in the run, ours + the emulator's, alone / beside the hog",
         f"{_cpu(section)} / {_cpu(busy)}"],
        ["CPU per product, ours: alone / beside the hog", f"{fmt(section.get('cpu_ms_per_product'), 'ms')} / "
         f"{fmt(busy.get('cpu_ms_per_product'), 'ms')}"],
        ["ours ÷ the bare CPU of the catalog's pictures (normalized one by one, nothing else), alone / beside "
         "the hog", f"{fmt(section.get('cpu_vs_bare_pictures'), 'x')} / {fmt(busy.get('cpu_vs_bare_pictures'), 'x')}"
         + (f" ({fmt(bare.get('pictures'))} pictures at {fmt(bare.get('ms_per_picture'), 'ms')} each on this "
            f"machine, {fmt(bare.get('cpu_seconds'), 's')} in all)" if bare else "")],
        ["imports (not in wall)", fmt(section.get("import_seconds"), "s")],
        ["instance set-up (not in wall)", fmt(section.get("instance_setup_seconds"), "s")],
        ["first day, partitions", f"{section.get('first_day', '—')}, {fmt(section.get('partitions'))}"],
    ])
    timeline = section.get("timeline") or {}
    if timeline:
        lines += [f"`materialize()` launched {len(timeline.get('runs', []))} run(s) taking "
                  f"{fmt(timeline.get('run_seconds'), 's')} of the {fmt(section.get('wall_seconds'), 's')}; "
                  f"{fmt(timeline.get('outside_runs_seconds'), 's')} went outside any run "
                  f"({fmt(timeline.get('before_first_run_seconds'), 's')} before the first one started: creating a "
                  f"run records its planned materializations). The runs recorded "
                  f"{fmt(timeline.get('materializations'))} materializations.", ""]
        split = section.get("overhead_split") or {}
        if split:
            lines += [(f"Of the {fmt(section.get('overhead_seconds'), 's')} overhead, "
                       f"{fmt(split.get('in_asset_bodies_seconds'), 's')} went in the asset functions' own bodies "
                       f"beyond the floor (sign-in, first page, last call, writes, publishing) and "
                       f"{fmt(split.get('outside_asset_bodies_seconds'), 's')} outside them (Dagster's run start-up "
                       "and event records, the check steps, the time between the runs)"
                       + _busy_split(busy) + "."), ""]
        lines += _table(["run / step", "starts at", "seconds", "materializations"], [
            row for run in timeline.get("runs", []) for row in (
                [[f"**{run['job']}** ({run['status']})", fmt(run["starts_at_seconds"], "s"),
                  fmt(run["run_seconds"], "s"), fmt(run["materializations"])]]
                + [[f"&nbsp;&nbsp;{step['step']}", f"+{fmt(step['starts_at_seconds'], 's')}",
                    fmt(step["seconds"], "s"), fmt(step["materializations"])]
                   for step in run["steps"] if step["seconds"] > 0.5])])
    assets = section.get("assets") or {}
    if assets:
        lines += ["Where the time went, from each asset's metadata:", ""]
        lines += _table(["asset", "figures"], [
            [asset, ", ".join(f"{k} {fmt(v)}" for k, v in values.items())] for asset, values in assets.items()])
    return lines


def _busy_split(busy: Mapping[str, Any]) -> str:
    split = busy.get("overhead_split") or {}
    if not split:
        return ""
    return (f"; beside the hog, {fmt(split.get('in_asset_bodies_seconds'), 's')} in them and "
            f"{fmt(split.get('outside_asset_bodies_seconds'), 's')} outside")


def _memory(report: Mapping[str, Any]) -> list[str]:
    section = report["memory"]
    lines = ["## Memory", ""] + _error_line(section)
    if _skip(section):
        return lines
    lines += _table(["figure", "value"], [
        ["products", fmt(section.get("products"))], ["peak_rss_mb (ru_maxrss)", fmt(section.get("peak_rss_mb"), "MB")],
        ["sampled peak RSS", fmt(section.get("sampled_peak_rss_mb"), "MB")],
        ["RSS after imports", fmt(section.get("rss_after_imports_mb"), "MB")],
        ["details fetched", fmt(section.get("details_fetched"))], ["wall", fmt(section.get("wall_seconds"), "s")],
        ["details/s", fmt(section.get("details_per_second"))], ["concurrency", fmt(section.get("concurrency"))],
    ])
    lines += ["The sync process alone (the emulator is a process of its own), at nice 19 in the background of the "
              "whole run: it measures memory, not speed.", ""]
    return lines


def _stores(report: Mapping[str, Any], key: str = "stores") -> list[str]:
    section = report[key]
    catalog = section.get("catalog") or "duckdb"
    parallel, alone = section.get("parallel") or {}, section.get("alone") or {}
    workers = parallel.get("workers") or 1
    lines = [f"## Many stores (`{key}`: catalog {catalog}, {fmt(workers)} worker process(es))", ""]
    lines += _error_line(section)
    if _skip(section):
        return lines
    phases = "; ".join(section.get("phases", []))
    where = "a file per store" if catalog == "duckdb" else "every store in one Postgres database"
    lines += [f"One emulator process at {fmt(section.get('rate_per_s'))} req/s per API and app, "
              f"{fmt(section.get('latency_ms'))} ± {fmt(section.get('latency_jitter_ms'))} ms latency; "
              f"{fmt(workers)} process(es) sync the stores, a thread per store, each with its own client "
              f"(`client_for`); the catalog is {catalog}, {where}. Phases: {phases}.", "",
              f"`{section.get('aggregate_efficiency_definition')}`.", ""]
    floor_sum, floor_max = fmt(parallel.get("floor_seconds_sum"), "s"), fmt(parallel.get("floor_seconds_max"), "s")
    efficiency_spread = f"{fmt(parallel.get('store_efficiency_min'))} / {fmt(parallel.get('store_efficiency_median'))}"
    cpu = f"{fmt(parallel.get('cpu_seconds'), 's')} ({fmt(parallel.get('cpu_cores_busy'))})"
    lines += _table(["figure", f"{fmt(parallel.get('stores'))} SELF stores in parallel", "one store alone"], [
        ["products per store", fmt(parallel.get("products_per_store")), fmt(alone.get("products"))],
        ["wall", fmt(parallel.get("wall_seconds"), "s"), fmt(alone.get("wall_seconds"), "s")],
        ["floor", f"{floor_sum} summed (max {floor_max})", fmt(alone.get("floor_seconds"), "s")],
        ["efficiency", f"**{fmt(parallel.get('aggregate_efficiency'))}** (aggregate)",
         f"**{fmt(alone.get('efficiency'))}**"],
        ["per-store efficiency min / median", efficiency_spread, "—"],
        ["API calls", fmt(parallel.get("api_calls")), fmt(alone.get("api_calls"))],
        ["429 responses", fmt(parallel.get("responses_429")), fmt(alone.get("responses_429"))],
        ["details fetched", fmt(parallel.get("details_fetched")), fmt(alone.get("details_fetched"))],
        ["errors", fmt(parallel.get("errors")), fmt(alone.get("errors"))],
        ["peak RSS (ru_maxrss; summed over the processes)", fmt(parallel.get("peak_rss_mb"), "MB"), "—"],
        ["peak RSS per process", ", ".join(fmt(v, "MB") for v in parallel.get("peak_rss_mb_per_worker") or []) or "—",
         "—"],
        ["CPU seconds (cores busy on average)", cpu, "—"],
    ])
    lines += [f"`{section.get('shared_floor_definition')}`.", ""]
    rows = []
    for key in ("sellers_sequential", "sellers_parallel"):
        sellers = section.get(key) or {}
        walls = ", ".join(fmt(seller.get("wall_seconds"), "s") for seller in sellers.get("per_seller", []))
        size = f"{fmt(sellers.get('sellers'))} x {fmt(sellers.get('products_per_seller'))}"
        rows.append([sellers.get("mode", key), size, fmt(sellers.get("wall_seconds"), "s"),
                     fmt(sellers.get("shared_floor_seconds"), "s"), f"**{fmt(sellers.get('wall_over_floor'), 'x')}**",
                     fmt(sellers.get("responses_429")), fmt(sellers.get("api_calls")), walls])
    lines += _table(["sellers of one SELLER-type app", "sellers x products", "wall", "shared floor", "wall / floor",
                     "429", "API calls", "each seller's wall"], rows)
    start, end = section.get("load_average_start") or [], section.get("load_average_end") or []
    lines += [f"Load average (1 / 5 / 15 min) at the scenario's start {' / '.join(fmt(v) for v in start)}, "
              f"at its end {' / '.join(fmt(v) for v in end)}.", ""]
    return lines


def _postgres(report: Mapping[str, Any]) -> list[str]:
    section = report["postgres"]
    lines = ["## The catalog on Postgres (`postgres`)", ""] + _error_line(section)
    if _skip(section):
        return lines
    rows = []
    for size in (section.get("upsert") or {}).values():
        seconds = size.get("seconds") or {}
        rows.append([fmt(size.get("rows")), fmt(size.get("repeats")), fmt(seconds.get("pg_upsert"), "s"),
                     fmt(seconds.get("pg_bare_copy"), "s"), f"**{fmt(size.get('pg_upsert_vs_bare_copy'), 'x')}**",
                     fmt(seconds.get("duckdb_upsert"), "s"), fmt(size.get("pg_upsert_vs_duckdb_upsert"), "x"),
                     fmt(seconds.get("pg_no_change"), "s")])
    lines += _table(["rows", "runs", "Postgres upsert", "bare COPY", "upsert / COPY", "DuckDB upsert",
                     "Postgres / DuckDB", "no-change re-upsert (0 rows written)"], rows)
    lines += ["Medians, the arms alternating in one process, on a Postgres cluster of the scenario's own on "
              "loopback (fsync on); each upsert into an empty table of a fresh store.", ""]
    return lines


def _sync_matrix(report: Mapping[str, Any]) -> list[str]:
    rows = report["matrix"]["sync"]
    lines = ["## Sync runs", ""]
    lines += _table(
        ["run", "client", "sync", "rate", "page", "concurrency (peak)", "floor", "wall", "efficiency",
         "429 ratio", "details/s", "detail p50/p95/p99 ms"],
        [[r["run"], r["client"], fmt(r["kind"]), fmt(r["rate_per_s"]), fmt(r["page_size"]),
          f"{fmt(r['concurrency'])} ({fmt(r['peak_concurrency'])})", fmt(r["floor_seconds"], "s"),
          fmt(r["wall_seconds"], "s"), fmt(r["efficiency"]), fmt(r["ratio_429"]), fmt(r["details_per_second"]),
          f"{fmt(r['detail_p50_ms'])} / {fmt(r['detail_p95_ms'])} / {fmt(r['detail_p99_ms'])}"] for r in rows])
    failed = [key for key, value in report.items() if key.startswith("sync_") and isinstance(value, Mapping)
              and "error" in value]
    if not rows and not failed:
        return lines + ["*No sync in this run.*", ""]
    for key in failed:
        lines += [f"- `{key}` failed: `{str(report[key]['error'])[:300]}`"]
    return lines + ([""] if failed else [])


def _comparison(report: Mapping[str, Any]) -> list[str]:
    comparison = report.get("comparison") or {}
    lines = [f"## Against {comparison.get('baseline_file', 'baseline.json')}", ""]
    if not comparison.get("rows"):
        return lines + [comparison.get("note", "Nothing to compare."), ""]
    lines += [f"Baseline: {comparison.get('baseline_mode')} run of {comparison.get('baseline_started_at')}. "
              f"A figure more than {comparison['threshold']:.0%} worse (in its own direction) is flagged. "
              f"**{comparison['regressions']} regression(s).**", ""]
    lines += _table(["figure", "better", "baseline.json", "latest", "change", "flag"], [
        [row["figure"], "higher" if row["better"] == HIGHER else "lower", fmt(row["baseline"]), fmt(row["latest"]),
         "—" if row["change"] is None else f"{row['change']:+.1%}", "⚠️ >15% worse" if row["regressed"] else ""]
        for row in comparison["rows"]])
    return lines


def render(report: Mapping[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        f"# Benchmark report: `{meta['command']}`", "",
        f"{meta['started_at']} · {meta['mode']} run · {fmt(meta.get('wall_seconds'), 's')} wall · "
        f"{meta['cpu_count']} CPUs · load average {meta['load_before']} before, {meta['load_after']} after · "
        f"commit {meta['git_commit']}{' (+ uncommitted changes)' if meta.get('git_dirty') else ''} · "
        f"Python {meta['python']}", "",
    ]
    if meta.get("load_warning"):
        lines += [f"> ⚠️ {meta['load_warning']}", ""]
    lines += _targets(report)
    lines += _sync_side_by_side(report, "sync_full", "sync_full_baseline", "Full sync: ours and the baseline client, side by side")
    lines += _ratios(report, "ratios")
    if "sync_full_2rps" in report:
        lines += _sync_side_by_side(report, "sync_full_2rps", "sync_full_2rps_baseline",
                                    "Full sync at 2 req/s (the real API's rate), side by side")
        lines += _ratios(report, "ratios_2rps")
    lines += _peer(report)
    lines += _incremental(report)
    lines += _upsert(report)
    lines += _packages(report)
    lines += _e2e(report)
    lines += _memory(report)
    for key in sorted(key for key in report if key == "stores" or key.startswith("stores_")):
        lines += _stores(report, key)
    if "postgres" in report:
        lines += _postgres(report)
    lines += _sync_matrix(report)
    lines += _comparison(report)
    lines += ["## Charts", ""] + [f"![{title}]({name})" for name, title in CHARTS] + [""]
    if meta.get("profile"):
        lines += [f"Profile of the sync (pyinstrument, the coordinating thread): [{meta['profile']}]({meta['profile']})", ""]
    return "\n".join(lines)
