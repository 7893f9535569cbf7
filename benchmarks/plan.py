"""What `make bench-quick` and `make bench` run, and how the steps share the machine.

Syncs that wait on the rate limit use little CPU, so they run side by side, each with its own
emulator process (fresh buckets) and DuckDB file. CPU-bound steps (the end-to-end run, upsert,
package builds) run alone, in the full run too. The 100,000-product memory sync runs in the first
wave, beside the rate-limited syncs, at nice 19; the end-to-end run (whose sync normalizes
pictures while it waits) comes after, alone.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.runner import Step

# The emulator for every sync scenario: 1,000 products, 20 req/s per API, and a WAN-like
# latency (the real API is a round trip away; on loopback it would be ~2 ms).
SYNC = {"products": 1000, "rate": 20.0, "latency_ms": 50.0, "latency_jitter_ms": 15.0, "seed": 42}
REAL_API_RATE = 2.0
INCREMENTAL = {**SYNC, "rate": REAL_API_RATE, "changed_fraction": 0.05}
# Two detail workers: the emulator answers at once, so the sync is CPU-bound in this process, and
# eight threads handing one GIL about synced 100k in 152 s where two took 101 s, at the same peak
# (344 and 339 MB): what is held grows with the catalog, not with the requests in flight.
MEMORY = {"products": 100_000, "rate": 5_000.0, "concurrency": 2}
MEMORY_1M = {**MEMORY, "products": 1_000_000}
E2E = {"products": 1000, "rate": 20.0, "latency_ms": 50.0, "latency_jitter_ms": 15.0, "seed": 42}
# Many stores (benchmarks/scenarios/stores.py) at the real API's rate: 20 SELF stores of 200 products
# in parallel, one alone, 5 sellers of 40 on one SELLER-type app (a shared floor near 100 s); ~5.5 min.
STORES = {"rate": REAL_API_RATE, "parallel_stores": 20, "products": 200, "sellers": 5, "seller_products": 40,
          "latency_ms": 50.0, "latency_jitter_ms": 15.0, "seed": 42}

# Postgres upsert against a bare COPY and the DuckDB upsert, the arms alternating.
POSTGRES = {"sizes": [10_000, 1_000_000], "repeats": {"10000": 3, "1000000": 1}}


def quick_plan(*, profile_path: Path | None = None) -> list[Step]:
    full_sync = dict(SYNC)
    if profile_path is not None:
        full_sync["profile_path"] = str(profile_path)
    return [
        # Memory, not time: beside the rate-limited syncs (little CPU), at the lowest priority,
        # and over before the CPU-bound steps, whose pictures and hashes it would slow. Run in the
        # background instead (to the end, at nice 19), it made the quick run ~260 s, not ~345 s, but
        # slowed the end-to-end runs' picture work: beside the hog, 233 of 982 packages prebuilt by
        # the sync's end, against 530 in a run without it.
        Step("memory", "memory", MEMORY, wave=1, nice=19),
        # The emulator's pictures for the end-to-end runs, drawn before they are measured.
        Step("draw_pictures", "draw_pictures", E2E, wave=1, nice=19),
        Step("sync_full", "sync", full_sync, wave=1),
        Step("sync_full_baseline", "sync_baseline", SYNC, wave=1),
        # The baseline's efficiency swings from run to run: the report takes the median of three.
        Step("sync_full_baseline_repeat_2", "sync_baseline", SYNC, wave=1),
        Step("sync_full_baseline_repeat_3", "sync_baseline", SYNC, wave=1),
        Step("sync_incremental", "sync_incremental", INCREMENTAL, wave=1),
        # The real peer: dlt's idiomatic pipeline (benchmarks/scenarios/dlt_peer.py), when installed.
        Step("sync_full_dlt", "sync_dlt", SYNC, wave=1),
        # Its sync normalizes pictures while it waits on the rate limit: CPU the syncs above
        # measured beside it would feel.
        Step("e2e", "e2e", E2E, wave=2),
        # The same again beside a process that keeps the other core busy: its overhead must not grow.
        Step("e2e_busy", "e2e", {**E2E, "cpu_hog": True}, wave=3),
        # Its figures are ratios of arms run alternately in one process, which a busy machine
        # slows alike: beside the first wave at nice 19, in the ~60 s the memory sync leaves a core
        # idle once the rate-limited syncs end, instead of a wave of its own.
        Step("upsert", "upsert", {"repeats": 5, "row_by_row_sample": 300}, wave=1, nice=19),
        # Three builds from nothing; the figures are the median pass's (by p95).
        Step("packages", "packages", {"images": [10], "packages": 40, "passes": 3}, wave=4),
    ]


def full_plan(*, profile_path: Path | None = None) -> list[Step]:
    quick = {step.key: step for step in quick_plan(profile_path=profile_path)}
    return [
        *(quick[key] for key in ("memory", "draw_pictures", "sync_full", "sync_full_baseline", "sync_full_baseline_repeat_2",
                                 "sync_full_baseline_repeat_3", "sync_incremental", "sync_full_dlt")),
        # A million products, nothing held that grows with the catalog: ~20 min, beside the first
        # wave's rate-limited syncs, at the lowest priority (the next wave waits for it).
        Step("memory_1m", "memory", MEMORY_1M, wave=1, nice=19, timeout_seconds=3600),
        # The seed plan's matrix, rate-limited syncs side by side. Page size 500 with adaptive
        # concurrency is sync_full itself.
        Step("sync_page_50", "sync", {**SYNC, "page_size": 50}, wave=2),
        Step("sync_page_200", "sync", {**SYNC, "page_size": 200}, wave=2),
        Step("sync_concurrency_1", "sync", {**SYNC, "concurrency": 1}, wave=2),
        Step("sync_concurrency_5", "sync", {**SYNC, "concurrency": 5}, wave=2),
        Step("sync_concurrency_10", "sync", {**SYNC, "concurrency": 10}, wave=2),
        # The real API's rate, once: about 8.5 minutes each, beside the quick matrix syncs.
        Step("sync_full_2rps", "sync", {**SYNC, "rate": REAL_API_RATE}, wave=3),
        Step("sync_full_2rps_baseline", "sync_baseline", {**SYNC, "rate": REAL_API_RATE}, wave=3),
        Step("sync_full_2rps_dlt", "sync_dlt", {**SYNC, "rate": REAL_API_RATE}, wave=3),
        # The pacer's margin (rate_limit.DEFAULT_SAFETY) against a gateway that refills by whole
        # seconds, as Spring Cloud Gateway's limiter does.
        Step("sync_full_2rps_whole_seconds", "sync", {**SYNC, "rate": REAL_API_RATE, "refill": "whole-seconds"},
             wave=3),
        Step("sync_incremental_off", "sync_incremental", {**INCREMENTAL, "rate": SYNC["rate"], "incremental": False},
             wave=3),
        Step("sync_incremental_on_20rps", "sync_incremental", {**INCREMENTAL, "rate": SYNC["rate"]}, wave=3),
        # How much the comparison owes to the baseline's backoff: a quicker one.
        Step("sync_full_baseline_backoff_250ms", "sync_baseline", {**SYNC, "backoff_base_seconds": 0.25}, wave=3),
        # Many stores: rate-limited like the syncs beside it, shorter than the 2 req/s pair.
        Step("stores", "stores", STORES, wave=3),
        # The same stores on two worker processes, every catalog in one Postgres, and beside it the
        # same on DuckDB files (a file per store): the pair of the beyond-one-machine issue.
        Step("stores_postgres", "stores", {**STORES, "catalog": "postgres", "workers": 2}, wave=3),
        Step("stores_duckdb_workers", "stores", {**STORES, "workers": 2}, wave=3),
        # The CPU-bound steps each alone, as in the quick run: nothing else on the two cores.
        Step("e2e", "e2e", E2E, wave=4),
        Step("e2e_busy", "e2e", {**E2E, "cpu_hog": True}, wave=5),
        Step("upsert", "upsert", {"repeats": 5, "row_by_row_sample": 300, "matrix": True}, wave=6),
        Step("packages", "packages", {"images": [3, 10, 30], "packages": 40, "passes": 3}, wave=7),
        # The catalog on Postgres beside DuckDB (benchmarks/scenarios/postgres.py), alone: ~4 min.
        Step("postgres", "postgres", POSTGRES, wave=8),
    ]
