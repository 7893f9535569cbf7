"""Many stores through a real `dagster dev` (webserver and daemon, dagster.yaml's run queue): a
stores file of SELF apps and one solution app's sellers becomes the partitions; syncs of stores
with their own apps run side by side while the sellers of one app queue, and every store gets its
own catalog file and packages folder."""

from __future__ import annotations

import json

import pytest

from commerce_emulator import EmulatorConfig, EmulatorServer, credentials_env, emulated_apps, registry_toml
from resources.commerce_api.registry import load_registry
from resources.store.resource import DuckDBStore, store_database_path
from tests.support.live_dagster import live_dagster

SELF_APPS, SELLERS = 2, 2
# Enough detail calls that a sync lasts several seconds at this rate: overlaps are long enough to see.
PRODUCTS, RATE = 40, 4.0


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    folder = tmp_path_factory.mktemp("many-stores")
    apps = emulated_apps(SELF_APPS, SELLERS, products=PRODUCTS)
    with EmulatorServer(EmulatorConfig(products=10, rate=RATE, apps=apps)) as emulator:
        registry = folder / "stores.toml"
        registry.write_text(registry_toml(apps, emulator.base_url), encoding="utf-8")
        env = {"CONTENT_OPS_STORES": str(registry), **credentials_env(apps)}
        with live_dagster(folder, emulator, extra_env=env) as live:
            yield live, emulator, load_registry(registry, env)


def _overlap(a: dict, b: dict) -> bool:
    return a["startTime"] < b["endTime"] and b["startTime"] < a["endTime"]


def test_sellers_of_one_app_queue_while_stores_with_their_own_apps_sync_side_by_side(stores):
    live, emulator, registry = stores
    launched = {live.launch_run("sync_catalog", {"dagster/partition": key, "content-ops/app": store.app.key}): key
                for key, store in registry.stores.items()}

    runs = live.wait_for_runs(set(launched), timeout=300)

    assert {run["status"] for run in runs.values()} == {"SUCCESS"}, live.log_tail()
    by_store = {launched[run_id]: run for run_id, run in runs.items()}
    sellers = [key for key, store in registry.stores.items() if store.account_id]
    own_apps = [key for key, store in registry.stores.items() if not store.account_id]
    assert len(sellers) == SELLERS and len(own_apps) == SELF_APPS
    assert not _overlap(by_store[sellers[0]], by_store[sellers[1]])  # one sync per app at a time
    assert any(_overlap(by_store[a], by_store[b]) for a in registry.stores for b in registry.stores
               if registry.stores[a].app.key != registry.stores[b].app.key)  # other apps in parallel
    per_app = emulator.stats()["apps"]
    assert all(sum(app["responses_429"].values()) == 0 for app in per_app.values()), per_app


def test_every_store_has_its_own_catalog_and_packages(stores):
    live, emulator, registry = stores
    # The refresh-queue sensor builds each store's packages in a run of its own.
    runs = live.wait_for_runs(live.package_runs(len(registry.stores)), timeout=300)
    assert {run["status"] for run in runs.values()} == {"SUCCESS"}
    for key in registry.stores:
        assert store_database_path(live.database_path, key).exists(), key
        # Through the store, which waits out the sensors' brief reads of the same file.
        with DuckDBStore(database_path=str(live.database_path), store_key=key,
                         lock_wait_seconds=30).connect() as store:
            assert store.con.execute("SELECT DISTINCT store_key FROM products").fetchall() == [(key,)]
            assert store.con.execute("SELECT count(*) FROM products").fetchone()[0] == PRODUCTS
    for key in registry.stores:
        summary = json.loads((live.packages_dir / key / "summary.json").read_text())
        assert summary["ready"] > 0, key
        assert any(path.name.isdigit() for path in (live.packages_dir / key).iterdir()), key
    top = (live.packages_dir / "index.html").read_text()
    assert all(f'href="{key}/index.html"' in top for key in registry.stores)
