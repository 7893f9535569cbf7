"""What a package run takes on: it sweeps what a killed run left half-written, claims the refresh
queue's items, finds the packages a changed template or setting made stale (staleness.py), loads
the products of both, and lists the jobs, one per (product, variant)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from resources.package_files.writer import PackageWriter
from resources.store import CatalogDatabase, refresh_queue
from resources.store.refresh_queue import QueueItem

from content_assets.packages.plan import PackageProduct, load_package_products
from content_assets.packages.staleness import PackageVersion, stale_packages

Job = tuple[int, str]  # (originProductNo, variant)


@dataclass(frozen=True)
class Claim:
    items: list[QueueItem]
    previously_failed: set[int]  # products whose items had failed before: failing again is not new
    stale: set[Job]
    products: dict[int, PackageProduct]
    jobs: list[Job]  # the claimed products' variants, then the stale packages
    orphan_builds_swept: int


def claim_work(log: dg.DagsterLogManager, store: CatalogDatabase, writer: PackageWriter, version: PackageVersion,
               variants_of: Callable[[int], list[str]], *, max_items: int | None, max_attempts: int) -> Claim:
    # What a killed run left half-written; versions the sync staged stay until this run is done.
    swept = writer.sweep(orphan_builds=False)
    if swept.staging_removed or swept.orphan_builds_removed or swept.cache_entries_removed:
        log.info(f"swept leftovers of an interrupted run: {swept}")

    with store.connect() as catalog:
        previously_failed = refresh_queue.failed_products(catalog.con)
        items = refresh_queue.claim(catalog.con, limit=max_items, max_attempts=max_attempts)
        claimed = {item.origin_product_no for item in items}
        stale = stale_packages(catalog.con, version, variants_of, claimed)
        products = load_package_products(catalog.con, sorted(claimed | {number for number, _ in stale}))

    jobs = [(item.origin_product_no, variant) for item in items for variant in variants_of(item.origin_product_no)]
    return Claim(items, previously_failed, stale, products, jobs + sorted(stale), swept.orphan_builds_removed)
