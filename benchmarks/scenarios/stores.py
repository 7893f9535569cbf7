"""Many stores at the real API's rate, against one emulator process: SELF stores synced in parallel
threads, one store alone for comparison, and the sellers of one SELLER-type app one after another
(as the run queue runs them: one sync per app at a time) and all at once on the app's shared pacer.

Each store syncs as a per-store run does, minus Dagster's process start-up: its own client from
CommerceApiResource.client_for (its app's credentials and pacers) and its own DuckDB file. Floors
come from the emulator's per-app counts, as benchmarks/metrics.py computes them. Three phases, in
order, each starting on full buckets:

1. the SELF stores in parallel, and beside them (on their own app's buckets) the sellers one after
   another;
2. one more SELF store alone, nothing else in the process;
3. the sellers all at once (their app idle through phase 2, so its buckets are full again).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, fields
from pathlib import Path
from queue import Empty
from typing import Any
from unittest import mock

import psutil

from benchmarks.emulator_process import EmulatorProcess
from benchmarks.metrics import ServerRequests, api_calls, burst_capacity, floor_seconds
from commerce_emulator import credentials_env, registry_toml
from content_assets.sync.engine import run_sync
from content_assets.sync.report import SyncReport
from resources.commerce_api import CommerceApiResource
from resources.commerce_api.registry import Store, StoreRegistry, load_registry
from resources.store import CatalogDatabase, DuckDBStore, PostgresStore
from resources.store.postgres.store import close_pools
from tests.support.servers import postgres_server

MB = 1024 * 1024
# A barrier that never opens (a lane failed before the start) must not hang the step.
START_TIMEOUT_SECONDS = 120.0
AGGREGATE_EFFICIENCY_DEFINITION = (
    "aggregate_efficiency = (sum of the stores' floors) / (number of stores x wall); the wall runs from "
    "the common start to the last store's end, and a store's floor is its app's admitted search or detail "
    "calls beyond the burst / the rate, the larger of the two")
SHARED_FLOOR_DEFINITION = (
    "shared_floor_seconds = all the sellers' admitted search or detail calls beyond one burst of their "
    "app / the app's rate, the larger of the two (the sellers share the app's buckets); wall_over_floor "
    "= wall / shared_floor_seconds, the wall from the first seller's start to the last one's end")


@dataclass(frozen=True)
class StoresPlan:
    rate: float = 2.0
    parallel_stores: int = 20
    products: int = 200  # per SELF store
    sellers: int = 5
    seller_products: int = 40  # 5 x 40 detail calls: a shared floor near 100 s at 2 req/s
    latency_ms: float = 50.0
    latency_jitter_ms: float = 15.0
    seed: int = 42
    catalog: str = "duckdb"  # or postgres: every store in one database of a Postgres of the scenario's own
    # Processes phase 1's lanes are dealt to, as runs spread over workers on several machines would be
    # (this process is the first; the sellers' lane stays in it). 1: every lane a thread of this process.
    workers: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StoresPlan:
        return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})


@dataclass(frozen=True)
class StoreSync:
    """One store's sync: when it ran (perf_counter seconds) and what it did."""

    store: Store
    started: float
    ended: float
    report: SyncReport

    @property
    def wall_seconds(self) -> float:
        return self.ended - self.started


def run(params: dict[str, Any]) -> dict[str, Any]:
    plan = StoresPlan.from_params(params)
    load_at_start = os.getloadavg()
    rss_after_imports = psutil.Process().memory_info().rss
    with ExitStack() as stack:
        databases = _catalogs(plan, stack)
        return _run(plan, databases, load_at_start, rss_after_imports)


def _catalogs(plan: StoresPlan, stack: ExitStack) -> Callable[[Path], CatalogDatabase]:
    """A fresh catalog per phase: DuckDB files in the phase's folder, or a new Postgres database
    (a connection per store lane: the pool holds them all)."""
    if plan.catalog == "duckdb":
        return lambda folder: DuckDBStore(database_path=str(folder / "catalog.duckdb"))
    server = stack.enter_context(postgres_server(durable=True))
    stack.callback(close_pools)
    return lambda folder: PostgresStore(url=server.create_database(), pool_size=plan.parallel_stores + 8)


def _run(plan: StoresPlan, databases: Callable[[Path], CatalogDatabase], load_at_start: tuple[float, ...],
         rss_after_imports: int) -> dict[str, Any]:
    with EmulatorProcess(products=plan.products, rate=plan.rate, seed=plan.seed, latency_ms=plan.latency_ms,
                         latency_jitter_ms=plan.latency_jitter_ms, self_apps=plan.parallel_stores + 1,
                         seller_accounts=plan.sellers, seller_products=plan.seller_products) as emulator, \
            tempfile.TemporaryDirectory(prefix="bench-stores-") as scratch_dir, \
            mock.patch.dict(os.environ, credentials_env(emulator.apps)):
        scratch = Path(scratch_dir)
        registry = _registry(emulator, scratch)
        self_stores = [store for store in registry.stores.values() if store.account_id is None]
        sellers = [store for store in registry.stores.values() if store.account_id is not None]
        parallel_stores, alone_store = self_stores[:plan.parallel_stores], self_stores[plan.parallel_stores]

        cpu_before = _cpu_seconds()
        lanes, workers = _in_workers(plan, databases(scratch / "phase-1"), [[store] for store in parallel_stores]
                                     + [sellers])
        *parallel_lanes, sequential = lanes
        cpu_seconds = _cpu_seconds() - cpu_before + sum(worker["cpu_seconds"] for worker in workers)
        sellers_idle_since = time.perf_counter()
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
        stats_1 = emulator.stats()
        emulator.reset_stats()

        ((alone,),) = _phase(plan, databases(scratch / "phase-2"), [[alone_store]])
        stats_2 = emulator.stats()
        emulator.reset_stats()

        # Phase 2 lasts longer than a bucket takes to refill at full sizes; at toy sizes, wait for it.
        time.sleep(max(0.0, burst_capacity(plan.rate) / plan.rate - (time.perf_counter() - sellers_idle_since)))
        side_by_side = [syncs[0] for syncs in _phase(plan, databases(scratch / "phase-3"), [[seller] for seller in sellers])]
        stats_3 = emulator.stats()

        # Inside the patched environment: a store's client id is read from it.
        parallel = _parallel_figures(plan, [syncs[0] for syncs in parallel_lanes], stats_1)
        one_after_another = _seller_figures(plan, sequential, stats_1, "one after another (one sync per app at a time)")
        all_at_once = _seller_figures(plan, side_by_side, stats_3, "all at once, sharing the app's pacer")
        alone_figures = _store_figures(plan, alone, stats_2)
    parallel.update(
        workers=plan.workers,
        # One process: its peak. Several: the sum of each worker's peak (what the machines hold at most).
        peak_rss_mb=round((peak_rss + sum(worker["peak_rss"] for worker in workers)) / MB, 1),
        peak_rss_mb_per_worker=[round(rss / MB, 1) for rss in [peak_rss] + [w["peak_rss"] for w in workers]],
        rss_after_imports_mb=round(rss_after_imports / MB, 1),
        cpu_seconds=round(cpu_seconds, 1),
        cpu_cores_busy=round(cpu_seconds / parallel["wall_seconds"], 3) if parallel["wall_seconds"] else None,
    )
    return {
        "rate_per_s": plan.rate,
        "catalog": plan.catalog,
        "latency_ms": plan.latency_ms,
        "latency_jitter_ms": plan.latency_jitter_ms,
        "load_average_start": [round(value, 2) for value in load_at_start],
        "load_average_end": [round(value, 2) for value in os.getloadavg()],
        "aggregate_efficiency_definition": AGGREGATE_EFFICIENCY_DEFINITION,
        "shared_floor_definition": SHARED_FLOOR_DEFINITION,
        "phases": [
            (f"1: {plan.parallel_stores} SELF stores in parallel threads"
             + (f" dealt to {plan.workers} processes" if plan.workers > 1 else "")
             + f", beside them the {plan.sellers} sellers one after another"),
            "2: one SELF store alone",
            f"3: the {plan.sellers} sellers in parallel threads",
        ],
        "parallel": parallel,
        "alone": alone_figures,
        "sellers_sequential": one_after_another,
        "sellers_parallel": all_at_once,
        "sellers_responses_429": one_after_another["responses_429"] + all_at_once["responses_429"],
        "responses_429": (parallel["responses_429"] + alone_figures["responses_429"]
                          + one_after_another["responses_429"] + all_at_once["responses_429"]),
    }


# -- running ----------------------------------------------------------------------------------


def _registry(emulator: EmulatorProcess, scratch: Path) -> StoreRegistry:
    """The stores file of the emulator's apps, loaded as the code location loads CONTENT_OPS_STORES."""
    path = scratch / "stores.toml"
    path.write_text(registry_toml(emulator.apps, emulator.base_url), encoding="utf-8")
    return load_registry(path)


def _in_workers(plan: StoresPlan, database: CatalogDatabase,
                lanes: Sequence[Sequence[Store]]) -> tuple[list[list[StoreSync]], list[dict[str, Any]]]:
    """`_phase` with the lanes dealt round-robin to plan.workers processes, the last lane (the
    sellers') in this one; every lane of every process from one start. Returns the lanes' syncs in
    `lanes`' order and, per other process, its peak RSS and CPU seconds."""
    if plan.workers <= 1:
        return _phase(plan, database, lanes), []
    order = [len(lanes) - 1] + list(range(len(lanes) - 1))  # the sellers' lane first: it stays here
    shares = [order[index::plan.workers] for index in range(plan.workers)]
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    # A Dagster resource does not pickle; its class and settings do.
    settings = (type(database), database.model_dump())
    processes = [context.Process(target=_worker, args=(plan, settings, [lanes[i] for i in share], number, ready, go,
                                                      results), name=f"store-worker-{number}", daemon=True)
                 for number, share in enumerate(shares[1:], start=1)]
    for process in processes:
        process.start()

    def start_everyone() -> None:  # run by the last of this process's lanes to reach the barrier
        for _ in processes:
            _receive(ready, processes, START_TIMEOUT_SECONDS)
        go.set()

    try:
        by_worker = {0: (_phase(plan, database, [lanes[i] for i in shares[0]], on_ready=start_everyone), {})}
        for _ in processes:
            number, syncs, usage = _receive(results, processes, START_TIMEOUT_SECONDS + 3600)
            if syncs is None:
                raise RuntimeError(f"store worker {number} failed: {usage}")
            by_worker[number] = (syncs, usage)
    finally:
        go.set()
        for process in processes:
            process.join(timeout=30)
    syncs = {lane: lane_syncs for number, share in enumerate(shares)
             for lane, lane_syncs in zip(share, by_worker[number][0], strict=True)}
    return [syncs[lane] for lane in range(len(lanes))], [by_worker[number][1] for number in range(1, plan.workers)]


def _receive(queue: Any, processes: Sequence[Any], timeout: float) -> Any:
    """The next message on `queue`; a worker that died without one (it could not start, or was
    killed) fails the phase at once instead of leaving it waiting out the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return queue.get(timeout=0.5)
        except Empty:
            dead = [process.name for process in processes if process.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"store worker process died: {', '.join(dead)}") from None
    raise TimeoutError(f"no word from the store workers in {timeout:.0f} s")


def _worker(plan: StoresPlan, settings: tuple[type[CatalogDatabase], dict[str, Any]], lanes: Sequence[Sequence[Store]],
            number: int, ready: Any, go: Any, results: Any) -> None:
    """A worker process: its lanes, started when every process is ready; its syncs go back on `results`."""
    database_class, database_settings = settings
    database = database_class(**database_settings)

    def wait_for_everyone() -> None:
        ready.put(number)
        if not go.wait(timeout=START_TIMEOUT_SECONDS):
            raise TimeoutError("the other store workers were not ready in time")

    try:
        syncs = _phase(plan, database, lanes, on_ready=wait_for_everyone)
        usage = {"peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "cpu_seconds": _cpu_seconds()}
        results.put((number, syncs, usage))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        results.put((number, None, f"{type(exc).__name__}: {exc}"))
    finally:
        close_pools()


def _phase(plan: StoresPlan, database: CatalogDatabase, lanes: Sequence[Sequence[Store]],
           on_ready: Callable[[], None] | None = None) -> list[list[StoreSync]]:
    """Each lane in a thread of its own, its stores one after another, every lane from one start
    (`on_ready` runs once they all are, before they go: other processes' lanes join the start).

    A fresh resource per phase gives fresh clients; the pacers stay one set per app in the process
    (resources/commerce_api/resource.py app_pacers), as in a code location's process.
    """
    api = CommerceApiResource(initial_rate_per_second=plan.rate)
    start = threading.Barrier(len(lanes), action=on_ready)
    try:
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="store-lane") as pool:
            futures = [pool.submit(_lane, api, database, lane, start) for lane in lanes]
            return [future.result() for future in futures]
    finally:
        for lane in lanes:
            for store in lane:
                api.client_for(store).close()


def _lane(api: CommerceApiResource, database: CatalogDatabase, stores: Sequence[Store],
          start: threading.Barrier) -> list[StoreSync]:
    syncs: list[StoreSync] = []
    try:
        for position, store in enumerate(stores):
            client = api.client_for(store)
            with database.for_store(store.key).connect() as catalog:
                if position == 0:
                    # The first store opens its file before the common start (as sync.py's runs do);
                    # the later ones of a lane open theirs inside its wall, as runs in a row would.
                    start.wait(timeout=START_TIMEOUT_SECONDS)
                started = time.perf_counter()
                report = run_sync(client, catalog, page_size=500)
                syncs.append(StoreSync(store, started, time.perf_counter(), report))
    except BaseException:
        start.abort()  # the other lanes stop waiting for this one
        raise
    return syncs


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- figures ----------------------------------------------------------------------------------


def _counts(stats: Mapping[str, Any], store: Store, *, whole_app: bool = False) -> Mapping[str, Any]:
    """The emulator's counts for a store: its SELF app's, a seller's own, or (whole_app) its app's."""
    app = stats["apps"][_client_id(store)]
    return app if whole_app or store.account_id is None else app["accounts"][store.account_id]


def _client_id(store: Store) -> str:
    return os.environ[store.app.client_id_env]


def _server_requests(counts: Mapping[str, Any]) -> ServerRequests:
    """The per-app counts ({api: n}, 429s apart) in metrics.py's shape, {api: {status: n}}."""
    return {api: {"not 429": total - counts["responses_429"].get(api, 0), "429": counts["responses_429"].get(api, 0)}
            for api, total in counts["requests"].items()}


def _store_figures(plan: StoresPlan, sync: StoreSync, stats: Mapping[str, Any]) -> dict[str, Any]:
    counts = _counts(stats, sync.store)
    floor = floor_seconds(_server_requests(counts), plan.rate)
    return {
        "store": sync.store.key,
        "products": plan.products,
        "floor_seconds": round(floor, 3),
        "wall_seconds": round(sync.wall_seconds, 3),
        "efficiency": round(floor / sync.wall_seconds, 4) if sync.wall_seconds > 0 else None,
        "api_calls": api_calls(_server_requests(counts)),
        "responses_429": sum(counts["responses_429"].values()),
        "details_fetched": sync.report.details_fetched,
        "errors": len(sync.report.errors),
        "peak_concurrency": sync.report.peak_concurrency,
    }


def _parallel_figures(plan: StoresPlan, syncs: Sequence[StoreSync], stats: Mapping[str, Any]) -> dict[str, Any]:
    per_store = [_store_figures(plan, sync, stats) for sync in syncs]
    wall = max(sync.ended for sync in syncs) - min(sync.started for sync in syncs)
    floors = [store["floor_seconds"] for store in per_store]
    efficiencies = [store["efficiency"] for store in per_store if store["efficiency"] is not None]
    return {
        "stores": len(syncs),
        "products_per_store": plan.products,
        "wall_seconds": round(wall, 3),
        "floor_seconds_sum": round(sum(floors), 3),
        "floor_seconds_max": max(floors),
        "aggregate_efficiency": round(sum(floors) / (len(syncs) * wall), 4) if wall > 0 else None,
        "store_efficiency_min": min(efficiencies, default=None),
        "store_efficiency_median": round(statistics.median(efficiencies), 4) if efficiencies else None,
        "store_wall_seconds_max": max(store["wall_seconds"] for store in per_store),
        "api_calls": sum(store["api_calls"] for store in per_store),
        "responses_429": sum(store["responses_429"] for store in per_store),
        "details_fetched": sum(store["details_fetched"] for store in per_store),
        "errors": sum(store["errors"] for store in per_store),
        "per_store": per_store,
    }


def _seller_figures(plan: StoresPlan, syncs: Sequence[StoreSync], stats: Mapping[str, Any],
                    mode: str) -> dict[str, Any]:
    app = _counts(stats, syncs[0].store, whole_app=True)
    shared_floor = floor_seconds(_server_requests(app), plan.rate)
    first_start = min(sync.started for sync in syncs)
    wall = max(sync.ended for sync in syncs) - first_start
    per_seller = []
    for sync in syncs:
        counts = _counts(stats, sync.store)
        per_seller.append({
            "store": sync.store.key,
            "account_id": sync.store.account_id,
            "starts_at_seconds": round(sync.started - first_start, 3),
            "wall_seconds": round(sync.wall_seconds, 3),
            "details_fetched": sync.report.details_fetched,
            "api_calls": api_calls(_server_requests(counts)),
            "responses_429": sum(counts["responses_429"].values()),
            "errors": len(sync.report.errors),
        })
    return {
        "mode": mode,
        "app": _client_id(syncs[0].store),
        "sellers": len(syncs),
        "products_per_seller": plan.seller_products,
        "wall_seconds": round(wall, 3),
        "shared_floor_seconds": round(shared_floor, 3),
        "wall_over_floor": round(wall / shared_floor, 4) if shared_floor > 0 else None,
        "api_calls": api_calls(_server_requests(app)),
        "responses_429": sum(app["responses_429"].values()),
        "quota_limited": app["quota_limited"],
        "details_fetched": sum(seller["details_fetched"] for seller in per_seller),
        "errors": sum(seller["errors"] for seller in per_seller),
        "per_seller": per_seller,
    }
