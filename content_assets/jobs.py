"""The jobs: a partitioned sync, the package build, and the whole graph. Each takes its assets'
checks along, so the blocking data checks stand between the sync and the packages."""

from __future__ import annotations

import dagster as dg

SYNC_ASSETS = ("product_list", "product_details", "products", "refresh_queue")
PACKAGE_ASSETS = ("content_packages",)

sync_catalog_job = dg.define_asset_job(
    "sync_catalog",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS),
    description="Sync the products modified on the selected KST day(s) and enqueue what changed. "
                "A range of days runs as one run.",
)

build_packages_job = dg.define_asset_job(
    "build_packages",
    selection=dg.AssetSelection.assets(*PACKAGE_ASSETS),
    description="Build packages for everything waiting in the refresh queue (and packages a template "
                "change made stale), in one batch.",
)

content_ops_job = dg.define_asset_job(
    "content_ops",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS, *PACKAGE_ASSETS),
    description="Sync the selected KST day(s) and build packages for every new or changed product, in one run. "
                "Pick every partition for the whole catalog.",
)

JOBS = [sync_catalog_job, build_packages_job, content_ops_job]
