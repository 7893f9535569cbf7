"""`make run`: sync every store and build its packages once, and print a summary (`--ui`: open the Dagster UI instead).

Without NAVER_COMMERCE_BASE_URL it starts the bundled emulator and syncs that; with it, it syncs
the API at that URL using NAVER_COMMERCE_CLIENT_ID / NAVER_COMMERCE_CLIENT_SECRET (or the stores
of CONTENT_OPS_STORES) and starts nothing. `--stores N` (`make run STORES=3`) has the emulator
serve N stores with their own apps, and `--sellers M` M more sellers of one solution app, written
to a stores file (data/emulator-stores.toml). Runs are recorded in the Dagster instance at
DAGSTER_HOME, so they show in the UI.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import DagsterInstance, Definitions

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000, help="emulator catalog size (default 1000)")
    parser.add_argument("--rate", type=float, default=20.0, help="emulator requests/s per API (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="emulator catalog seed (default 42)")
    parser.add_argument("--stores", type=int, default=1,
                        help="emulated stores with their own apps (default 1: the single store `default`)")
    parser.add_argument("--sellers", type=int, default=0, help="emulated sellers of one solution app (default 0)")
    parser.add_argument("--ui", action="store_true", help="serve the Dagster UI (dagster dev) instead of one run")
    return parser.parse_args()


@contextmanager
def emulator(args: argparse.Namespace, registry: Path | None) -> Iterator[str]:
    """Start the emulator in its own process (serving several apps when `registry` is given, which
    it writes as a stores file); yield its base URL."""
    with tempfile.TemporaryDirectory() as scratch:
        ready = Path(scratch) / "ready"
        command = [sys.executable, "-m", "commerce_emulator", "--products", str(args.products),
                   "--rate", str(args.rate), "--seed", str(args.seed), "--port", "0", "--ready-file", str(ready)]
        if registry is not None:
            command += ["--self-apps", str(args.stores), "--seller-accounts", str(args.sellers),
                        "--registry-out", str(registry)]
        process = subprocess.Popen(command, cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while not (ready.exists() and ready.read_text().strip()):
                if process.poll() is not None:
                    raise SystemExit(f"the emulator exited with code {process.returncode} before it was ready")
                if time.monotonic() > deadline:
                    raise SystemExit("the emulator did not become ready within 60 s")
                time.sleep(0.05)
            yield ready.read_text().strip()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def materialize() -> dict[str, dict[str, dict[str, object]]]:
    """Sync each store and build its packages once on the instance at DAGSTER_HOME, a run each, as
    the schedule and the sensors would (with the same tags); the stores one after the other.
    Return each store's assets' metadata."""
    import dagster as dg

    from content_assets.definitions import defs
    from content_assets.environment import STORES
    from content_assets.stores import sync_tags

    # INFO: the assets' progress lines, not a DEBUG event line per asset.
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    by_store: dict[str, dict[str, dict[str, object]]] = {}
    with dg.DagsterInstance.get() as instance:
        for key in STORES.keys:
            by_store[key] = _materialize_store(defs, instance, key, sync_tags(key), quiet)
    return by_store


def _materialize_store(defs: Definitions, instance: DagsterInstance, store: str, tags: dict[str, str],
                       quiet: dict) -> dict[str, dict[str, object]]:
    """The store's sync run, then its package run; each asset's metadata."""
    metadata: dict[str, dict[str, object]] = {}
    for job, job_tags in (("sync_catalog", tags), ("build_packages", {})):
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=store, tags=job_tags, run_config=quiet, raise_on_error=False
        )
        for event in result.get_asset_materialization_events():
            materialization = event.step_materialization_data.materialization
            assert materialization is not None
            metadata[materialization.asset_key.to_user_string()] = {
                key: value.value for key, value in materialization.metadata.items()
            }
        if not result.success:
            raise SystemExit(f"content-ops {job} run {result.run_id} of store {store} failed: {failure_reason(result)}")
    return metadata


def failure_reason(result: object) -> str:
    """Why a run failed, without a stack trace: the failure's description (the one line a run
    stopper gives: API unreachable, credentials refused, file held, disk full), else the error."""
    failure = next((e for e in result.all_events if e.is_step_failure), None)  # type: ignore[attr-defined]
    data = failure.step_failure_data if failure is not None else None
    if data is not None and data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description.strip()
    if data is not None and data.error is not None:
        return data.error.message.strip()
    return "see the run in the UI"


def _seconds(value: object) -> str:
    return "-" if value is None else f"{float(value):.2f}s"  # type: ignore[arg-type]


def _ms(value: object) -> str:
    return "-" if value is None else f"{float(value):.0f}ms"  # type: ignore[arg-type]


def quarantine_line(store: str, products: dict[str, object], shown: int = 3) -> str:
    """The quarantined products: how many, and the reasons of the latest few, read from the store."""
    from resources.store import DuckDBStore, PostgresStore, quarantine

    total = products.get("quarantined_total")
    if not total:
        return "  quarantined       none"
    url = os.environ.get("CONTENT_DB_URL")
    database = PostgresStore(url=url) if url else DuckDBStore(database_path=os.environ["CONTENT_DB_PATH"])
    with database.for_store(store).connect() as catalog:
        total, rows = quarantine.summary(catalog.con, shown)
    reasons = "; ".join(
        f"{number} ({' '.join(str(part) for part in (api, status, code) if part)}): {' '.join(str(reason).split())[:120]}"
        for number, api, status, code, reason, *_ in rows
    )
    return (f"  quarantined       {total} product(s), {products.get('quarantined_new')} new, "
            f"{products.get('skipped_quarantined')} held back this run (see the sync_quarantine table): {reasons}")


def print_summary(by_store: dict[str, dict[str, dict[str, object]]], source: str, rate: float | None,
                  wall: float) -> None:
    if len(by_store) > 1:
        return print_stores_summary(by_store, source, wall)
    ((store, metadata),) = by_store.items()
    listed = metadata.get("product_list", {})
    details = metadata.get("product_details", {})
    products = metadata.get("products", {})
    queue = metadata.get("refresh_queue", {})
    packages = metadata.get("content_packages", {})
    requests = details.get("api_requests_total") or {}
    total_requests = sum(sum(by_status.values()) for by_status in requests.values())  # type: ignore[union-attr]
    print()
    print(f"content-ops: synced {source}")
    print(
        f"  products synced   {products.get('dagster/row_count')} in the table "
        f"({products.get('rows_inserted')} inserted, {products.get('rows_updated')} updated, "
        f"{products.get('rows_unchanged')} unchanged); {listed.get('products_listed')} listed, "
        f"{details.get('details_fetched')} details fetched, {details.get('detail_errors')} error(s)"
    )
    print(quarantine_line(store, products))
    print(
        f"  packages built    {packages.get('packages_built')} ({packages.get('packages_unchanged')} unchanged, "
        f"{packages.get('packages_failed')} failed) from {queue.get('refresh_queue_enqueue_total')} enqueued"
    )
    print(
        f"  timings           token {_seconds(listed.get('token_fetch_seconds'))}, list {_seconds(listed.get('list_fetch_seconds'))}, "
        f"detail p50/p95/p99 {_ms(details.get('detail_fetch_p50_ms'))}/{_ms(details.get('detail_fetch_p95_ms'))}/"
        f"{_ms(details.get('detail_fetch_p99_ms'))}, db upsert {_seconds(products.get('db_upsert_seconds'))}, "
        f"sync {_seconds(products.get('sync_total_seconds'))}"
    )
    print(
        f"                    package build p50/p95 {_seconds(packages.get('package_build_p50_seconds'))}/"
        f"{_seconds(packages.get('package_build_p95_seconds'))}, packages {_seconds(packages.get('total_seconds'))}, "
        f"whole run {wall:.1f}s"
    )
    line = f"  API               {total_requests} requests, {details.get('api_429_total')} x 429, {details.get('retry_total')} retries"
    if rate:
        detail_calls = int(details.get("detail_calls") or 0)  # type: ignore[arg-type]
        floor = max(0.0, detail_calls - 2 * rate) / rate
        line += f"; rate-limit floor for {detail_calls} detail calls at {rate:g} req/s: {floor:.1f}s"
    print(line)
    print(f"  packages in       {packages.get('packages_dir')}")


def print_stores_summary(by_store: dict[str, dict[str, dict[str, object]]], source: str, wall: float) -> None:
    """A line per store: what its sync and its package run did."""
    print()
    print(f"content-ops: synced {len(by_store)} stores of {source} in {wall:.1f}s")
    print(f"  {'store':<16} {'products':>8} {'details':>8} {'packages':>8} {'429s':>5} {'sync':>8}  packages in")
    for store, metadata in by_store.items():
        products, details, packages = (metadata.get(asset, {}) for asset in
                                       ("products", "product_details", "content_packages"))
        print(f"  {store:<16} {products.get('dagster/row_count')!s:>8} {details.get('details_fetched')!s:>8} "
              f"{packages.get('packages_built')!s:>8} {details.get('api_429_total')!s:>5} "
              f"{_seconds(products.get('sync_total_seconds')):>8}  {packages.get('packages_dir')}")
    print(f"  gallery           {os.environ['PACKAGES_DIR']}/index.html")


def serve_ui() -> None:
    """`dagster dev` on workspace.yaml with this environment, until Ctrl-C."""
    print(f"Dagster UI for {os.environ['NAVER_COMMERCE_BASE_URL']} on http://127.0.0.1:3000 (Ctrl-C stops it)")
    dagster = Path(sys.executable).with_name("dagster")
    process = subprocess.Popen([str(dagster), "dev", "-w", "workspace.yaml", "-p", "3000"], cwd=ROOT)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def main() -> None:
    args = parse_args()
    os.chdir(ROOT)
    os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    os.environ.setdefault("CONTENT_DB_PATH", str(ROOT / "data" / "content_ops.duckdb"))
    os.environ.setdefault("PACKAGES_DIR", str(ROOT / "data" / "packages"))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").symlink_to(ROOT / "dagster.yaml")

    started = time.perf_counter()
    action = serve_ui if args.ui else None
    if os.environ.get("NAVER_COMMERCE_BASE_URL"):
        if action:
            return action()
        for name in ("NAVER_COMMERCE_CLIENT_ID", "NAVER_COMMERCE_CLIENT_SECRET"):
            if not os.environ.get(name) and not os.environ.get("CONTENT_OPS_STORES"):
                raise SystemExit(f"NAVER_COMMERCE_BASE_URL is set, so {name} must be set too (or CONTENT_OPS_STORES)")
        metadata = materialize()
        print_summary(metadata, os.environ["NAVER_COMMERCE_BASE_URL"], None, time.perf_counter() - started)
        return

    registry = emulated_stores(args)
    with emulator(args, registry) as base_url:
        os.environ["NAVER_COMMERCE_BASE_URL"] = base_url
        if action:
            return action()
        try:
            metadata = materialize()
        finally:
            del os.environ["NAVER_COMMERCE_BASE_URL"]
    source = f"the bundled emulator ({args.products} products a store, {args.rate:g} req/s per API and app)"
    print_summary(metadata, source, args.rate, time.perf_counter() - started)


def emulated_stores(args: argparse.Namespace) -> Path | None:
    """The emulator's credentials in the environment; with several stores, the stores file the
    emulator will write (CONTENT_OPS_STORES names it), else None (the single store `default`)."""
    from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, credentials_env, emulated_apps

    os.environ.setdefault("NAVER_COMMERCE_CLIENT_ID", DEFAULT_CLIENT_ID)
    os.environ.setdefault("NAVER_COMMERCE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    if args.stores <= 1 and args.sellers <= 0:
        return None
    os.environ.update(credentials_env(emulated_apps(args.stores, args.sellers)))
    registry = ROOT / "data" / "emulator-stores.toml"
    registry.parent.mkdir(parents=True, exist_ok=True)
    registry.unlink(missing_ok=True)
    os.environ["CONTENT_OPS_STORES"] = str(registry)
    return registry


if __name__ == "__main__":
    main()
