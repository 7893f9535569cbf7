"""Peak memory of a large sync: 100,000 products, the emulator's rate set high so it ends in minutes.

Measured in this process only (the emulator is a process of its own): the high-water mark the
kernel keeps (ru_maxrss), and a sampled RSS timeline for a cross-check.
"""

from __future__ import annotations

import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.emulator_process import EmulatorProcess
from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

MB = 1024 * 1024


class _RssSampler:
    """Samples this process's RSS every `interval` seconds in a daemon thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._process = psutil.Process()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._process.memory_info().rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def run(params: dict[str, Any]) -> dict[str, Any]:
    from content_assets.sync.engine import run_sync
    from resources.commerce_api import CommerceApiClient
    from resources.store import DuckDBStore

    products = int(params.get("products", 100_000))
    rate = float(params.get("rate", 5_000.0))
    rss_after_imports = psutil.Process().memory_info().rss
    with EmulatorProcess(products=products, rate=rate, seed=int(params.get("seed", 42))) as emulator, \
            tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        with CommerceApiClient(base_url=emulator.base_url, client_id=DEFAULT_CLIENT_ID,
                               client_secret=DEFAULT_CLIENT_SECRET, initial_rate_per_second=rate) as client:
            with _RssSampler() as sampler, \
                    DuckDBStore(database_path=str(Path(scratch) / "catalog.duckdb")).connect() as catalog:
                started = time.perf_counter()
                report = run_sync(client, catalog, concurrency=params.get("concurrency"))
                wall = time.perf_counter() - started
                rows = catalog.count("products")
                # How much of the peak is DuckDB's own buffer pool (it lives in this process).
                duckdb_bytes = catalog.con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
                duckdb_limit = catalog.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {
        "products": products,
        "rate_per_s": rate,
        "peak_rss_mb": round(peak / MB, 1),
        "sampled_peak_rss_mb": round(sampler.peak_bytes / MB, 1),
        "rss_after_imports_mb": round(rss_after_imports / MB, 1),
        "duckdb_memory_at_end_mb": round((duckdb_bytes or 0) / MB, 1),
        "duckdb_memory_limit": duckdb_limit,
        "listed": report.listed,
        "details_fetched": report.details_fetched,
        "products_rows": rows,
        "errors": len(report.errors),
        "wall_seconds": round(wall, 3),
        "details_per_second": round(report.details_fetched / wall, 1) if wall else None,
        "concurrency": params.get("concurrency") if params.get("concurrency") is not None else "adaptive",
        "peak_concurrency": report.peak_concurrency,
    }
