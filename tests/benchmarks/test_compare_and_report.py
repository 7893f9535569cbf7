"""The harness's own logic: floors, targets, the baseline comparison and the report's shape. No timing."""

from __future__ import annotations

from benchmarks.compare import HIGHER, LOWER, Tracked, compare, regressions
from benchmarks.markdown import render
from benchmarks.metrics import floor_seconds, ratio_429
from benchmarks.report import build_report
from benchmarks.runner import StepOutcome
from benchmarks.targets import Target

TRACKED = (Tracked("sync.wall_seconds", LOWER), Tracked("sync.efficiency", HIGHER),
           Tracked("sync.ratio_429", LOWER, absolute_tolerance=0.001))


def flagged(latest: dict, baseline: dict) -> set[str]:
    return {row["figure"] for row in regressions(compare(latest, baseline, tracked=TRACKED))}


def test_a_longer_wall_time_is_flagged_only_past_15_percent():
    baseline = {"sync": {"wall_seconds": 100.0}}
    assert flagged({"sync": {"wall_seconds": 114.0}}, baseline) == set()
    assert flagged({"sync": {"wall_seconds": 116.0}}, baseline) == {"sync.wall_seconds"}
    assert flagged({"sync": {"wall_seconds": 50.0}}, baseline) == set()  # faster is never a regression


def test_a_lower_efficiency_is_worse_and_a_higher_one_is_not():
    baseline = {"sync": {"efficiency": 0.9}}
    assert flagged({"sync": {"efficiency": 0.7}}, baseline) == {"sync.efficiency"}
    assert flagged({"sync": {"efficiency": 1.2}}, baseline) == set()


def test_growth_from_zero_counts_only_past_the_absolute_tolerance():
    baseline = {"sync": {"ratio_429": 0.0}}
    assert flagged({"sync": {"ratio_429": 0.0005}}, baseline) == set()
    assert flagged({"sync": {"ratio_429": 0.01}}, baseline) == {"sync.ratio_429"}


def test_figures_missing_or_failed_on_either_side_are_not_compared():
    rows = compare({"sync": {"error": "boom"}}, {"sync": {"wall_seconds": 1.0}}, tracked=TRACKED)
    assert rows == []


def test_floor_counts_admitted_requests_beyond_the_burst_of_the_busier_api():
    requests = {"token": {"200": 1}, "search": {"200": 2}, "detail": {"200": 982, "429": 300}}
    assert floor_seconds(requests, 20.0) == (982 - 40) / 20
    assert ratio_429(requests) == 300 / 1285


def test_a_target_passes_misses_or_says_why_it_has_no_figure():
    target = Target("efficiency", "sync.efficiency", ">=", 0.95)
    assert target.evaluate({"sync": {"efficiency": 0.96}})["status"] == "pass"
    assert target.evaluate({"sync": {"efficiency": 0.90}})["status"] == "miss"
    assert target.evaluate({"sync": {"error": "emulator died"}})["status"] == "error"
    assert target.evaluate({})["status"] == "not run"
    equal_to_other = Target("exact", "inc.detail_calls", "==", "inc.changed")
    assert equal_to_other.evaluate({"inc": {"detail_calls": 49, "changed": 49}})["status"] == "pass"
    assert equal_to_other.evaluate({"inc": {"detail_calls": 50, "changed": 49}})["status"] == "miss"


def _meta(mode: str) -> dict:
    return {"mode": mode, "command": "make bench-quick" if mode == "quick" else "make bench", "started_at": "now",
            "wall_seconds": 1.0, "cpu_count": 2, "load_before": "0.1", "load_after": "0.1", "git_commit": "abc",
            "python": "3.11"}


def _sync(efficiency: float, responses_429: int, client: str) -> dict:
    return {"client": client, "products": 1000, "rate_per_s": 20.0, "floor_seconds": 47.1, "wall_seconds": 47.1 / efficiency,
            "efficiency": efficiency, "ratio_429": responses_429 / 1000, "responses_429": responses_429,
            "api_calls": 1000 + responses_429, "page_size": 500, "concurrency": 8, "details_per_second": 19.0}


def test_report_holds_the_issue_keys_the_ratios_and_renders_failures():
    outcomes = {
        "sync_full": StepOutcome("sync_full", True, _sync(0.98, 1, "ours"), None, 50.0),
        # Three baseline runs side by side: the median (0.80) stands for it, its best is 0.90.
        "sync_full_baseline": StepOutcome("sync_full_baseline", True, _sync(0.70, 100, "baseline"), None, 70.0),
        "sync_full_baseline_repeat_2": StepOutcome("r2", True, _sync(0.90, 300, "baseline"), None, 70.0),
        "sync_full_baseline_repeat_3": StepOutcome("r3", True, _sync(0.80, 200, "baseline"), None, 70.0),
        "packages": StepOutcome("packages", False, None, "RuntimeError: builder mid-rewrite", 3.0),
    }
    meta = _meta("quick")
    report = build_report(outcomes, meta=meta, baseline={"sync_full": {"efficiency": 0.99}})

    for key in ("sync_full", "sync_full_baseline", "sync_incremental", "upsert", "packages", "e2e", "memory"):
        assert key in report
    assert report["ratios"]["efficiency_ratio"] == round(0.98 / 0.80, 4)
    assert report["vs_baseline"] == {
        "responses_429_ratio": round(1 / 200, 4), "calls_ratio": round(1001 / 1200, 4),
        "efficiency_vs_best_baseline": round(0.98 / 0.90, 4), "best_baseline_efficiency": 0.90, "baseline_runs": 3}
    assert report["packages"]["error"] == "RuntimeError: builder mid-rewrite"
    statuses = {t["figure"]: t["status"] for t in report["targets"]}
    assert statuses["sync_full.efficiency"] == "pass"
    assert statuses["sync_full.ratio_429"] == "miss"  # one 429 is one too many
    assert statuses["vs_baseline.responses_429_ratio"] == "pass"
    assert statuses["vs_baseline.calls_ratio"] == "pass"
    assert statuses["vs_baseline.efficiency_vs_best_baseline"] == "pass"
    assert statuses["packages.build_p95_seconds"] == "error"
    assert statuses["memory.peak_rss_mb"] == "not run"
    markdown = render(report)
    assert "builder mid-rewrite" in markdown
    assert "| Full sync 1,000 @ 20 req/s: efficiency | 0.98 | 0.8 | >= 0.97 | ✅ pass |" in markdown


def test_the_busy_end_to_end_run_stands_beside_the_quiet_one():
    def sync_step(seconds):
        step = {"step": "catalog_sync", "seconds": seconds, "starts_at_seconds": 0.1, "materializations": 3}
        return {"runs": [{"job": "sync_catalog", "status": "SUCCESS", "starts_at_seconds": 0.2,
                          "run_seconds": seconds + 1, "materializations": 4, "steps": [step]}]}

    e2e = {"products": 1000, "wall_seconds": 52.0, "api_floor_seconds": 49.0, "overhead_seconds": 3.0,
           "cpu_seconds": {"ours": 40.5, "emulator": 30.25}, "timeline": sync_step(49.5),
           "overhead_split": {"in_asset_bodies_seconds": 1.75, "outside_asset_bodies_seconds": 1.25}}
    busy = {**e2e, "wall_seconds": 56.0, "overhead_seconds": 7.0, "cpu_hog": True,
            "cpu_seconds": {"ours": 41.0, "emulator": 30.0}, "timeline": sync_step(49.75),
            "overhead_split": {"in_asset_bodies_seconds": 4.5, "outside_asset_bodies_seconds": 2.5}}
    meta = _meta("quick")

    report = build_report({"e2e": StepOutcome("e2e", True, e2e, None, 60.0),
                           "e2e_busy": StepOutcome("e2e_busy", True, busy, None, 60.0)}, meta=meta, baseline=None)

    assert report["e2e"]["overhead_busy_seconds"] == 7.0
    statuses = {t["figure"]: t["status"] for t in report["targets"]}
    assert (statuses["e2e.overhead_seconds"], statuses["e2e.overhead_busy_seconds"]) == ("pass", "miss")
    markdown = render(report)
    assert "7 s (wall 56 s, floor 49 s)" in markdown
    assert "| the sync step (catalog_sync), alone / beside the hog | 49.5 s / 49.75 s |" in markdown
    assert "| 40.5 s + 30.25 s / 41 s + 30 s |" in markdown
    assert "Of the 3 s overhead, 1.75 s went in the asset functions' own bodies" in markdown
    assert "and 1.25 s outside them" in markdown
    assert "beside the hog, 4.5 s in them and 2.5 s outside." in markdown


def test_a_step_that_fails_in_its_child_process_is_recorded_not_raised():
    from benchmarks.runner import Step, run_plan

    outcomes = run_plan([Step("broken", "no_such_scenario")], log=lambda line: None)

    assert outcomes["broken"].ok is False
    assert "no_such_scenario" in outcomes["broken"].error
    assert outcomes["broken"].as_json() == {"error": outcomes["broken"].error}


def test_repeated_runs_are_reported_by_their_median_efficiency():
    from benchmarks.report import median_of_repeats

    runs = [_sync(0.95, 200, "baseline"), _sync(0.75, 210, "baseline"), _sync(0.90, 190, "baseline")]

    median = median_of_repeats(runs)

    assert median["efficiency"] == 0.90
    assert [run["efficiency"] for run in median["repeats"]] == [0.95, 0.75, 0.90]
    assert median_of_repeats([{"error": "boom"}, _sync(0.8, 1, "baseline")])["efficiency"] == 0.8


def test_every_step_reaches_the_report_and_the_postgres_pair_is_rendered():
    meta = _meta("full")
    stores = {"catalog": "postgres", "responses_429": 0, "parallel": {"workers": 2, "aggregate_efficiency": 0.956}}
    size = {"rows": 10_000, "repeats": 3, "pg_upsert_vs_bare_copy": 1.2, "pg_upsert_vs_duckdb_upsert": 6.0,
            "seconds": {"pg_upsert": 0.6, "pg_bare_copy": 0.5, "duckdb_upsert": 0.1, "pg_no_change": 0.2}}
    outcomes = {
        "stores_postgres": StepOutcome("stores_postgres", True, stores, None, 300.0),
        "stores_duckdb_workers": StepOutcome("stores_duckdb_workers", True,
                                             {**stores, "catalog": "duckdb", "parallel": {"workers": 2,
                                                                                         "aggregate_efficiency": 0.957}},
                                             None, 300.0),
        "postgres": StepOutcome("postgres", True, {"upsert": {"10000": size}}, None, 200.0),
    }

    report = build_report(outcomes, meta=meta, baseline=None)

    assert report["stores_postgres"]["catalog"] == "postgres"
    assert report["postgres"]["upsert"]["10000"]["pg_upsert_vs_bare_copy"] == 1.2
    targets = {t["figure"]: t for t in report["targets"]}
    assert targets["stores_postgres.parallel.aggregate_efficiency"]["status"] == "pass"
    assert targets["stores_postgres.parallel.aggregate_efficiency"]["baseline"] == 0.957
    assert targets["postgres.upsert.10000.pg_upsert_vs_bare_copy"]["status"] == "pass"
    markdown = render(report)
    assert "## Many stores (`stores_postgres`: catalog postgres, 2 worker process(es))" in markdown
    assert "| 10,000 | 3 | 0.6 s | 0.5 s | **1.2x** | 0.1 s | 6x | 0.2 s |" in markdown


def test_the_emulator_process_reports_the_cpu_time_it_has_used():
    import httpx

    from benchmarks.emulator_process import EmulatorProcess

    with EmulatorProcess(products=50, rate=1000.0) as emulator:
        before = emulator.cpu_seconds()
        with httpx.Client() as client:  # each request is CPU the emulator spends
            for number in range(200):
                client.get(f"{emulator.root_url}/images/{number}/1.jpg")
        after = emulator.cpu_seconds()
    assert 0 < before < after


def test_the_dlt_peer_and_the_million_product_memory_sync_reach_the_report():
    meta = _meta("full")
    failed_2rps = {**_sync(0.5, 40, "dlt"), "efficiency": None, "rows": {},
                   "pipeline_error": "PipelineStepFailed: 429 after 5 attempts"}
    outcomes = {
        "sync_full": StepOutcome("sync_full", True, _sync(0.98, 0, "ours"), None, 50.0),
        "sync_full_dlt": StepOutcome("sync_full_dlt", True, {**_sync(0.95, 225, "dlt"), "rows": {
            "products": 1000, "product_details": 982, "details_without_product": 17}, "pipeline_error": None},
            None, 55.0),
        "sync_full_2rps_dlt": StepOutcome("sync_full_2rps_dlt", True, failed_2rps, None, 30.0),
        "memory": StepOutcome("memory", True, {"peak_rss_mb": 350.0}, None, 150.0),
        "memory_1m": StepOutcome("memory_1m", True, {"peak_rss_mb": 640.0}, None, 1500.0),
    }
    report = build_report(outcomes, meta=meta, baseline=None)

    assert report["memory"]["peak_rss_1m_mb"] == 640.0
    statuses = {t["figure"]: t["status"] for t in report["targets"]}
    assert (statuses["memory.peak_rss_mb"], statuses["memory.peak_rss_1m_mb"]) == ("pass", "miss")
    markdown = render(report)
    assert "| 20 req/s | dlt | 0.95 | 1,225 | 225 | 982 | 17 stored details are 429 bodies |" in markdown
    assert "| 2 req/s | dlt | — | 1,040 | 40 | — | PipelineStepFailed: 429 after 5 attempts |" in markdown
