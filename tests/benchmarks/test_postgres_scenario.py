"""The Postgres scenario's plumbing at a toy size, in the harness's child process: every arm loads
every row, the no-change re-upsert writes nothing (the scenario asserts both), and the ratios are
those of the medians. No timing."""

from __future__ import annotations

from benchmarks.runner import Step, run_plan
from tests.support.servers import postgres_bin_dir, require_binary


def test_postgres_scenario_measures_the_three_arms_and_their_ratios():
    require_binary(postgres_bin_dir(), "PostgreSQL's initdb/postgres", "postgresql")
    params = {"sizes": [200], "repeats": {"200": 2}}
    outcomes = run_plan([Step("postgres", "postgres", params, timeout_seconds=110)], log=lambda line: None)
    assert outcomes["postgres"].ok, outcomes["postgres"].error

    figures = outcomes["postgres"].result["upsert"]["200"]
    seconds = figures["seconds"]
    assert figures["rows"] == 200 and all(len(samples) == 2 for samples in figures["samples"].values())
    assert set(seconds) == {"pg_upsert", "pg_bare_copy", "duckdb_upsert", "pg_no_change"}
    for ratio, (ours, other) in {"pg_upsert_vs_bare_copy": ("pg_upsert", "pg_bare_copy"),
                                 "pg_upsert_vs_duckdb_upsert": ("pg_upsert", "duckdb_upsert")}.items():
        assert abs(figures[ratio] - seconds[ours] / seconds[other]) <= 0.02 * figures[ratio]  # of the medians


def test_the_many_store_scenario_syncs_every_store_into_one_postgres_database_from_two_workers():
    require_binary(postgres_bin_dir(), "PostgreSQL's initdb/postgres", "postgresql")
    toy = {"rate": 5.0, "parallel_stores": 3, "products": 16, "sellers": 2, "seller_products": 8,
           "latency_ms": 0.0, "latency_jitter_ms": 0.0, "catalog": "postgres", "workers": 2}
    outcomes = run_plan([Step("stores_postgres", "stores", toy, timeout_seconds=110)], log=lambda line: None)
    assert outcomes["stores_postgres"].ok, outcomes["stores_postgres"].error

    result = outcomes["stores_postgres"].result
    assert result["catalog"] == "postgres" and result["responses_429"] == 0
    parallel = result["parallel"]
    assert parallel["workers"] == 2 and len(parallel["peak_rss_mb_per_worker"]) == 2
    assert parallel["stores"] == 3 and {store["store"] for store in parallel["per_store"]} == {
        "self-app-1", "self-app-2", "self-app-3"}
    for store in (*result["parallel"]["per_store"], result["alone"]):
        assert store["details_fetched"] > 0 and store["errors"] == 0
