"""The jobs: the partitioned sync, and the package build. Each takes its assets' checks along.

They stay two jobs (the schedules launch the first, the sensors the second) rather than one job
over the whole graph: in Dagster 1.13 a partitioned run launched through the daemon or the UI
plans every unpartitioned check once per partition and resolves only one of those plans, so the
package checks of such a run would read "not evaluated" in the UI.
"""

import dagster as dg

SYNC_ASSETS = ("product_list", "product_details", "products", "refresh_queue")
PACKAGE_ASSETS = ("content_packages",)

sync_catalog_job = dg.define_asset_job(
    "sync_catalog",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS),
    description="Sync the products modified on the selected KST day(s) and enqueue what changed. "
                "A range of days runs as one run; every partition is the whole catalog.",
)

build_packages_job = dg.define_asset_job(
    "build_packages",
    selection=dg.AssetSelection.assets(*PACKAGE_ASSETS),
    description="Build packages for everything waiting in the refresh queue (and packages a template "
                "change made stale), in one batch.",
)

JOBS = [sync_catalog_job, build_packages_job]
