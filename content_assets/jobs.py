"""The jobs: the sync, and the package build, both by store. Each takes its assets' checks along.

They stay two jobs (the schedule launches the first, the sensors the second) rather than one job
over the whole graph: in Dagster 1.13 a partitioned run launched through the daemon or the UI
plans every unpartitioned check once per partition and resolves only one of those plans, so the
package checks of such a run would read "not evaluated" in the UI.

A sync run of a store is tagged with its app (content_assets/stores.py) however it is launched
as this job, the launchpad and backfills included: the run queue allows one per app at a time.
"""

import dagster as dg

from content_assets.stores import store_partitions, sync_tags

SYNC_ASSETS = ("product_list", "product_details", "products", "refresh_queue")
PACKAGE_ASSETS = ("content_packages",)

sync_catalog_job = dg.define_asset_job(
    "sync_catalog",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS),
    config=dg.PartitionedConfig(partitions_def=store_partitions, run_config_for_partition_key_fn=lambda _: {},
                                tags_for_partition_key_fn=sync_tags),
    description="Sync a store: what changed since its last sync (the whole catalog the first time, or "
                "with full_refresh), and enqueue what changed for packages.",
)

build_packages_job = dg.define_asset_job(
    "build_packages",
    selection=dg.AssetSelection.assets(*PACKAGE_ASSETS),
    description="Build a store's packages for everything waiting in its refresh queue (and packages a "
                "template change made stale), in one batch.",
)

JOBS = [sync_catalog_job, build_packages_job]
