"""The stores the code location syncs, as the partitions of every asset, and the run tags that keep
their runs apart.

The partitions are the registry's store keys (`CONTENT_OPS_STORES`, resources/commerce_api/registry.py),
read when the code location loads, like every other setting: a static partition set is exactly the
registry, so no store is ever registered without its partition or the other way round, and no
sensor has to catch up first. Edit the file and reload the code location (the UI's Reload, or a
restart) to add or drop a store; a dropped store's history stays in the instance.

Two run-queue limits in dagster.yaml keep runs from colliding:
- `dagster/partition`, one run per store at a time (a sync or a package run): the store's DuckDB
  file has one writer. Every partitioned run carries that tag, however it was launched.
- `content-ops/app`, one sync run per app at a time: the rate-limit buckets are the app's, so the
  sellers of one solution app queue while stores with their own apps sync in parallel. The sync
  job, the schedule and `make run` tag their runs; a run launched from the asset graph (no tag)
  still paces itself and retries a 429, and the sync logs a warning.
"""

from __future__ import annotations

import dagster as dg

from resources.commerce_api.registry import DEFAULT_STORE, Store
from resources.store import CatalogDatabase

from content_assets.environment import STORES

GROUP = "content_ops"
APP_TAG = "content-ops/app"
PARTITION_TAG = "dagster/partition"

store_partitions = dg.StaticPartitionsDefinition(STORES.keys)


def sync_tags(store_key: str) -> dict[str, str]:
    """The tags of a sync run of `store_key`: its app, which the run queue limits to one run."""
    return {APP_TAG: STORES.store(store_key).app.key}


def store_of(context: dg.AssetExecutionContext) -> Store:
    return STORES.store(context.partition_key)


def store_key_of_run(run: dg.DagsterRun) -> str | None:
    return run.tags.get(PARTITION_TAG)


def checked_store(context: dg.AssetCheckExecutionContext, store: CatalogDatabase) -> CatalogDatabase:
    """The catalog of the store whose run a check runs in (checks are per asset, not per partition,
    in Dagster 1.13: their results say which store they judged)."""
    return store.for_store(context.run.tags.get(PARTITION_TAG) or DEFAULT_STORE)


def uses_own_settings() -> bool:
    """The code location has the environment's single store (no stores file): the commerce_api resource's
    own client_id, client_secret and base_url are its."""
    return STORES.path is None
