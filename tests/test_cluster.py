"""Beyond one machine, on loopback: the catalog and the Dagster instance on a Postgres of the test's
own, runs' steps on two Celery workers over a Redis of its own (deploy/dagster.yaml, deploy/celery.yaml),
`dagster dev` for the webserver and the daemon. Three stores (one with its own app, two sellers of
one solution app) are synced and packaged through the run queue, and the result is what the
embedded default (DuckDB files, in-process runs: `make run`) makes of the same catalog.

Skips without Debian's postgresql and redis-server binaries, but under CI=true (.ci/run installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from commerce_emulator import EmulatorConfig, EmulatorServer, credentials_env, emulated_apps, registry_toml
from resources.commerce_api.registry import StoreRegistry, load_registry
from resources.store import DuckDBStore, PostgresStore
from resources.store.postgres.store import close_pools
from tests.support.live_dagster import ROOT, LiveDagster, live_dagster
from tests.support.servers import PostgresServer, redis_server

pytestmark = pytest.mark.timeout(900)

SELF_APPS, SELLERS, PRODUCTS, RATE = 1, 2, 24, 8.0
DEPLOY = ROOT / "deploy"
CELERY = Path(sys.executable).with_name("dagster-celery")
# What a lock or a serialization failure says, in Postgres's words and in DuckDB's.
LOCK_ERRORS = re.compile(r"deadlock detected|could not serialize|LockNotAvailable|Could not set lock|Conflicting lock")


@dataclass
class Cluster:
    live: LiveDagster
    emulator: EmulatorServer
    registry: StoreRegistry
    catalog_url: str
    instance_env: dict[str, str]  # the DAGSTER_PG_* settings deploy/dagster.yaml reads
    logs: list[Path]
    env: dict[str, str]


def _worker(name: str, queue: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [str(CELERY), "worker", "start", "-A", "dagster_celery.app", "-y", str(DEPLOY / "celery.yaml"),
               "-q", queue, "-n", f"{name}@%h", "--", "--concurrency", "2"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    catalog_url = postgres.create_database()
    instance_db = postgres.create_database().rsplit("/", 1)[1]
    instance_env = {"DAGSTER_PG_USERNAME": "postgres", "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_HOST": "127.0.0.1",
                    "DAGSTER_PG_PORT": str(postgres.port), "DAGSTER_PG_DB": instance_db}
    apps = emulated_apps(SELF_APPS, SELLERS, products=PRODUCTS)
    with redis_server() as redis, EmulatorServer(EmulatorConfig(products=10, rate=RATE, apps=apps)) as emulator:
        stores_file = folder / "stores.toml"
        stores_file.write_text(registry_toml(apps, emulator.base_url), encoding="utf-8")
        env = {"CONTENT_OPS_STORES": str(stores_file), **credentials_env(apps),
               "CONTENT_DB_URL": catalog_url, **instance_env,
               "CONTENT_OPS_EXECUTOR": "celery", "CONTENT_OPS_MEDIA_QUEUE": "media",
               "CELERY_BROKER_URL": redis.url(0), "CELERY_RESULT_BACKEND": redis.url(1)}
        with live_dagster(folder, emulator, extra_env=env, instance_config=DEPLOY / "dagster.yaml") as live:
            # `dagster-celery worker start` runs `celery`, found on PATH: the venv's.
            path = f"{CELERY.parent}{os.pathsep}{os.environ.get('PATH', '')}"
            worker_env = {**os.environ, **env, "PATH": path, "DAGSTER_HOME": str(live.home),
                          "NAVER_COMMERCE_BASE_URL": emulator.base_url, "PACKAGES_DIR": str(live.packages_dir)}
            logs = [folder / "worker-general.log", folder / "worker-media.log"]
            workers = [_worker("general", "dagster", worker_env, logs[0]), _worker("media", "media", worker_env, logs[1])]
            try:
                yield Cluster(live, emulator, load_registry(stores_file, env), catalog_url, instance_env,
                              [*logs, live.log_path], worker_env)
            finally:
                for worker in workers:
                    _stop(worker)
                close_pools(catalog_url)


def _overlap(a: dict, b: dict) -> bool:
    return a["startTime"] < b["endTime"] and b["startTime"] < a["endTime"]


def _workers_of_steps(cluster: Cluster, run_ids: set[str]) -> dict[str, set[str]]:
    """step key -> the Celery workers that executed it, from the runs' events in the Postgres instance."""
    os.environ.update(cluster.instance_env)
    by_step: dict[str, set[str]] = {}
    with dg.DagsterInstance.from_config(str(cluster.live.home)) as instance:
        for run_id in run_ids:
            for entry in instance.all_logs(run_id):
                event = entry.dagster_event
                if event is None or not event.is_engine_event or not entry.step_key:
                    continue
                worker = event.engine_event_data.metadata.get("Celery worker")
                if worker is not None:
                    by_step.setdefault(entry.step_key, set()).add(str(worker.value).split("@")[0])
    return by_step


def test_three_stores_sync_and_package_through_the_queue_on_celery_workers(cluster: Cluster):
    live, registry = cluster.live, cluster.registry
    launched = {live.launch_run("sync_catalog", {"dagster/partition": key, "content-ops/app": store.app.key}): key
                for key, store in registry.stores.items()}
    syncs = live.wait_for_runs(set(launched), timeout=400)
    assert {run["status"] for run in syncs.values()} == {"SUCCESS"}, live.log_tail()

    by_store = {launched[run_id]: run for run_id, run in syncs.items()}
    sellers = [key for key, store in registry.stores.items() if store.account_id]
    assert len(sellers) == SELLERS and not _overlap(by_store[sellers[0]], by_store[sellers[1]])  # one per app
    assert all(sum(app["responses_429"].values()) == 0 for app in cluster.emulator.stats()["apps"].values())

    packages = live.wait_for_runs(live.package_runs(len(registry.stores), timeout=300), timeout=400)
    assert {run["status"] for run in packages.values()} == {"SUCCESS"}, live.log_tail()
    workers = _workers_of_steps(cluster, set(syncs) | set(packages))
    assert workers.get("catalog_sync") and workers["catalog_sync"] <= {"general"}
    assert workers.get("content_packages") == {"media"}  # the picture work on a queue of its own
    for log in cluster.logs:
        assert not LOCK_ERRORS.search(log.read_text(errors="replace")), f"{log.name}: lock or serialization error"


def _catalog_rows(database, store: str) -> dict[str, list[tuple]]:  # noqa: ANN001
    with database.for_store(store).connect() as catalog:
        con = catalog.con
        return {
            "products": con.execute("SELECT origin_product_no, payload_hash, name, sale_price, status_type, store_key "
                                    "FROM products ORDER BY 1").fetchall(),
            "queue": con.execute("SELECT origin_product_no, payload_hash, status FROM refresh_queue ORDER BY 1").fetchall(),
            "packages": con.execute("SELECT origin_product_no, variant, content_hash, image_count FROM packages "
                                    "ORDER BY 1, 2").fetchall(),
        }


def _package_files(folder: Path) -> set[str]:
    """The files of a store's packages (not the gallery pages, which carry times)."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")
            if path.is_file() and path.relative_to(folder).parts[0].isdigit()}


def test_the_result_is_what_the_embedded_default_makes_of_the_same_catalog(cluster: Cluster, tmp_path: Path):
    embedded = tmp_path / "embedded"
    home = embedded / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {key: value for key, value in cluster.env.items()
           if key not in ("CONTENT_DB_URL", "CONTENT_OPS_EXECUTOR", "CONTENT_OPS_MEDIA_QUEUE", *cluster.instance_env)}
    env.update(DAGSTER_HOME=str(home), CONTENT_DB_PATH=str(embedded / "content.duckdb"),
               PACKAGES_DIR=str(embedded / "packages"))
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    duck, postgres = DuckDBStore(database_path=env["CONTENT_DB_PATH"]), PostgresStore(url=cluster.catalog_url)
    for store in cluster.registry.stores:
        on_duckdb, on_postgres = _catalog_rows(duck, store), _catalog_rows(postgres, store)
        assert len(on_postgres["products"]) == PRODUCTS
        assert on_postgres == on_duckdb, store
        assert _package_files(cluster.live.packages_dir / store) == _package_files(embedded / "packages" / store)
