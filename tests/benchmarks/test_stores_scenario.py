"""The many-store scenario's plumbing at toy sizes: the harness runs it in a child process, every store
syncs through its own app, and the report, its targets and latest.md carry its figures. No timing."""

from __future__ import annotations

from benchmarks.markdown import render
from benchmarks.report import build_report
from benchmarks.runner import Step, run_plan

# Small enough to take seconds, slow enough that every store's calls pass its burst (a floor > 0).
TOY = {"rate": 5.0, "parallel_stores": 2, "products": 16, "sellers": 2, "seller_products": 8,
       "latency_ms": 0.0, "latency_jitter_ms": 0.0}
META = {"mode": "full", "command": "make bench (--only stores)", "started_at": "now", "wall_seconds": 1.0,
        "cpu_count": 2, "load_before": "0.1", "load_after": "0.1", "git_commit": "abc", "python": "3.11"}


def test_stores_scenario_syncs_every_store_through_its_app_and_reports_it():
    outcomes = run_plan([Step("stores", "stores", TOY, timeout_seconds=110)], log=lambda line: None)
    assert outcomes["stores"].ok, outcomes["stores"].error
    stores = outcomes["stores"].result

    parallel = stores["parallel"]
    assert [store["store"] for store in parallel["per_store"]] == ["self-app-1", "self-app-2"]
    assert stores["alone"]["store"] == "self-app-3"
    for store in (*parallel["per_store"], stores["alone"]):
        assert store["details_fetched"] > 0 and store["errors"] == 0
        assert store["floor_seconds"] > 0
    assert parallel["floor_seconds_sum"] == sum(store["floor_seconds"] for store in parallel["per_store"])
    assert parallel["peak_rss_mb"] > 0

    for key in ("sellers_sequential", "sellers_parallel"):
        sellers = stores[key]
        assert sellers["app"] == "agency-app"
        assert [seller["account_id"] for seller in sellers["per_seller"]] == ["ncp_seller_1", "ncp_seller_2"]
        assert sellers["details_fetched"] == sum(seller["details_fetched"] for seller in sellers["per_seller"])
        assert sellers["shared_floor_seconds"] > 0
    first, second = stores["sellers_sequential"]["per_seller"]
    assert second["starts_at_seconds"] >= first["starts_at_seconds"] + first["wall_seconds"]  # one at a time
    assert stores["responses_429"] == 0
    assert len(stores["load_average_start"]) == len(stores["load_average_end"]) == 3

    report = build_report(outcomes, meta=META, baseline=None)
    assert report["stores"] == stores
    statuses = {t["figure"]: t["status"] for t in report["targets"] if t["figure"].startswith("stores.")}
    assert len(statuses) == 5 and set(statuses.values()) <= {"pass", "miss"}
    markdown = render(report)
    assert "## Many stores" in markdown
    assert "aggregate_efficiency = (sum of the stores' floors)" in markdown


def test_a_report_without_the_stores_step_has_no_stores_section():
    report = build_report({}, meta=META, baseline=None)

    assert "stores" not in report
    assert "## Many stores" not in render(report)
    assert {t["status"] for t in report["targets"] if t["figure"].startswith("stores.")} == {"not run"}
