"""Full and incremental syncs, ours and the baseline's, each on a fresh emulator and a fresh DuckDB file."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.baseline_client import BaselineClient, run_baseline_sync
from benchmarks.emulator_process import EmulatorProcess
from benchmarks.metrics import latency_ms, sync_figures
from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from content_assets.sync.engine import run_sync
from content_assets.sync.report import SyncReport
from resources.commerce_api import CommerceApiClient
from resources.store import CatalogStore, DuckDBStore

# Fast enough that filling the store before an incremental sync takes seconds.
POPULATE_RATE = 2_000.0


def _emulator(params: dict[str, Any], rate: float | None = None) -> EmulatorProcess:
    return EmulatorProcess(
        products=int(params["products"]),
        rate=float(rate if rate is not None else params["rate"]),
        seed=int(params.get("seed", 42)),
        latency_ms=float(params.get("latency_ms", 0.0)),
        latency_jitter_ms=float(params.get("latency_jitter_ms", 0.0)),
        refill=str(params.get("refill", "continuous")),
    )


def _our_client(base_url: str, rate: float, safety: float | None = None) -> CommerceApiClient:
    return CommerceApiClient(
        base_url=base_url, client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET,
        initial_rate_per_second=rate, **({"pacing_safety": safety} if safety is not None else {}),
    )


def _run_ours(
    client: CommerceApiClient, catalog: CatalogStore, params: dict[str, Any], *, incremental: bool
) -> tuple[SyncReport, float]:
    profile_path = params.get("profile_path")
    profiler = None
    if profile_path:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    started = time.perf_counter()
    report = run_sync(
        client, catalog, page_size=int(params.get("page_size", 500)), concurrency=params.get("concurrency"),
        incremental=incremental,
    )
    wall = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        path = Path(profile_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
        path.with_suffix(".txt").write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
    return report, wall


def _our_figures(
    params: dict[str, Any], client: CommerceApiClient, report: SyncReport, wall: float, requests: dict, rate: float
) -> dict[str, Any]:
    figures = sync_figures(
        products=int(params["products"]), rate_per_s=rate, wall_seconds=wall, requests=requests,
        detail_call_seconds=client.stats.call_latency_seconds("detail"),
    )
    search = latency_ms(client.stats.call_latency_seconds("search"))
    token = latency_ms(client.stats.call_latency_seconds("token"))
    figures.update(
        client="ours",
        kind="fresh",
        pacing_safety=client.pacers["detail"].safety,  # at the end: each 429 lowers it a notch
        refill=str(params.get("refill", "continuous")),
        page_size=int(params.get("page_size", 500)),
        concurrency=params.get("concurrency") if params.get("concurrency") is not None else "adaptive",
        peak_concurrency=report.peak_concurrency,
        listed=report.listed,
        needs_detail=report.needs_detail,
        details_fetched=report.details_fetched,
        errors=len(report.errors),
        db_seconds=round(report.db_seconds, 3),
        upsert_rows_written=report.upsert.rows_written,
        details_per_second=round(report.details_fetched / wall, 3) if wall else None,
        search_p50_ms=search["p50"], search_p95_ms=search["p95"], search_p99_ms=search["p99"],
        token_ms=token["p50"],
        client_429=client.stats.total_429,
        client_retries=client.stats.retries,
        client_floor_seconds=round(client.rate_limit_floor_seconds(), 3),
        client_initial_rate_per_s=rate,
        latency_ms=float(params.get("latency_ms", 0.0)),
        latency_jitter_ms=float(params.get("latency_jitter_ms", 0.0)),
        profiled=bool(params.get("profile_path")),
    )
    return figures


def run_ours(params: dict[str, Any]) -> dict[str, Any]:
    """A full sync of a fresh catalog by our client (`concurrency`: None = adaptive)."""
    rate = float(params["rate"])
    with _emulator(params) as emulator, tempfile.TemporaryDirectory(prefix="bench-sync-") as scratch:
        with _our_client(emulator.base_url, rate, params.get("safety")) as client:
            with DuckDBStore(database_path=str(Path(scratch) / "catalog.duckdb")).connect() as catalog:
                report, wall = _run_ours(client, catalog, params, incremental=True)
            requests = emulator.stats()["requests"]
            return _our_figures(params, client, report, wall, requests, rate)


def run_baseline(params: dict[str, Any]) -> dict[str, Any]:
    """The same full sync by the original service's client (8 threads, backoff, no pacing)."""
    rate = float(params["rate"])
    with _emulator(params) as emulator, tempfile.TemporaryDirectory(prefix="bench-baseline-") as scratch:
        with BaselineClient(base_url=emulator.base_url, client_id=DEFAULT_CLIENT_ID,
                            client_secret=DEFAULT_CLIENT_SECRET,
                            backoff_base_seconds=float(params.get("backoff_base_seconds", 1.0))) as client:
            with DuckDBStore(database_path=str(Path(scratch) / "catalog.duckdb")).connect() as catalog:
                started = time.perf_counter()
                report = run_baseline_sync(client, catalog, page_size=int(params.get("page_size", 500)),
                                           max_workers=int(params.get("max_workers", 8)))
                wall = time.perf_counter() - started
            requests = emulator.stats()["requests"]
    figures = sync_figures(
        products=int(params["products"]), rate_per_s=rate, wall_seconds=wall, requests=requests,
        detail_call_seconds=report.detail_seconds,
    )
    figures.update(
        client="baseline",
        kind="fresh",
        page_size=int(params.get("page_size", 500)),
        concurrency=int(params.get("max_workers", 8)),
        listed=report.listed,
        needs_detail=report.needs_detail,
        details_fetched=report.details_fetched,
        errors=len(report.errors),
        db_seconds=round(report.db_seconds, 3),
        upsert_rows_written=report.upsert.rows_written,
        details_per_second=round(report.details_fetched / wall, 3) if wall else None,
        list_seconds=round(report.list_seconds, 3),
        client_429=report.total_429,
        client_retries=report.retries,
        backoff_base_seconds=client.backoff_base_seconds,
        latency_ms=float(params.get("latency_ms", 0.0)),
        latency_jitter_ms=float(params.get("latency_jitter_ms", 0.0)),
    )
    return figures


def run_incremental(params: dict[str, Any]) -> dict[str, Any]:
    """Fill the store fast, change `changed_fraction` of the catalog, then sync again at `rate`.

    `incremental=False` in params measures the full refresh instead (every detail fetched again).
    """
    rate = float(params["rate"])
    incremental = bool(params.get("incremental", True))
    with _emulator(params, rate=POPULATE_RATE) as emulator, \
            tempfile.TemporaryDirectory(prefix="bench-incremental-") as scratch:
        database_path = str(Path(scratch) / "catalog.duckdb")
        with _our_client(emulator.base_url, POPULATE_RATE) as filler:
            with DuckDBStore(database_path=database_path).connect() as catalog:
                populated = _run_ours(filler, catalog, {**params, "profile_path": None}, incremental=True)[0]
        changed = emulator.modify(float(params.get("changed_fraction", 0.05)), seed=int(params.get("modify_seed", 7)))
        emulator.set_rate(rate)  # the buckets restart full at the new rate's burst
        emulator.reset_stats()
        with _our_client(emulator.base_url, rate) as client:
            with DuckDBStore(database_path=database_path).connect() as catalog:
                report, wall = _run_ours(client, catalog, params, incremental=incremental)
            requests = emulator.stats()["requests"]
            figures = _our_figures(params, client, report, wall, requests, rate)
    figures.update(
        kind="incremental" if incremental else "full refresh",
        incremental=incremental,
        changed=len(changed),
        detail_calls=sum(requests.get("detail", {}).values()),
        populated_products=populated.details_fetched,
    )
    return figures
