"""The content_packages asset: a Naver Blog package for every product waiting in the refresh queue,
and for every package a changed template or setting made stale.

A package per product and variant: post.html (inline styles, upload placeholders, the advertising
disclosure), preview.html, meta.json, images/NN.jpg, keyframes/NN.jpg from the product video,
package.zip and unique-pack.zip, under PACKAGES_DIR/<store>/. After the run, the store's index.html
(its gallery), summary.json and repeats.json (pictures that look alike across packages), and the
page at the top of PACKAGES_DIR that lists every store, are refreshed.
"""

import time
from typing import Optional

import dagster as dg

from content_assets.packages.batch import build_batch
from content_assets.packages.builder import DEFAULT_PICTURE_MAX_BYTES, DEFAULT_VIDEO_MAX_BYTES
from content_assets.packages.claim import claim_work
from content_assets.environment import CATALOG_KIND, STORES, media_step_tags
from content_assets.packages.gallery import GalleryRefresh, refresh_gallery, refresh_store_index
from content_assets.packages.media.perceptual_hash import DEFAULT_MAX_DISTANCE
from content_assets.packages.plan import PackageRenderer
from content_assets.packages.records import record_run
from content_assets.packages.run_metadata import PackageRun, run_metadata
from content_assets.packages.settings import PackageSettingsResource
from content_assets.run_stoppers import stops_run
from content_assets.stores import GROUP, store_of, store_partitions, uses_own_settings
from resources.commerce_api import CommerceApiResource
from resources.commerce_api.registry import DEFAULT_STORE
from resources.package_files import PackageWriter
from resources.store import CatalogDatabase, package_records



class PackagesConfig(dg.Config):
    """How a package run goes; what its packages hold is the `package_settings` resource."""

    package_threads: Optional[int] = None  # packages built at once (plan, zip, write); default: CPU count
    download_threads: int = 8  # picture downloads at once, across packages
    image_threads: Optional[int] = None  # threads for image and video work; default: CPU count
    images_in_flight: int = 16  # pictures downloaded but not yet in the cache, at most
    video_max_bytes: int = DEFAULT_VIDEO_MAX_BYTES
    picture_max_bytes: int = DEFAULT_PICTURE_MAX_BYTES  # a bigger picture is refused as it downloads
    strict_pictures: bool = False  # True: a picture that cannot be had fails its package (else it is left out)
    repeat_max_distance: int = DEFAULT_MAX_DISTANCE  # perceptual-hash bits for "the same picture"
    max_items: Optional[int] = None
    max_error_ratio: float = 0.2


@dg.asset(deps=["refresh_queue"], group_name=GROUP, kinds={CATALOG_KIND, "html"}, op_tags=media_step_tags(),
          partitions_def=store_partitions,
          description="A Naver Blog package (post.html, meta.json, images, keyframes, zips) per queued product, "
                      "in the store's folder of PACKAGES_DIR.")
@stops_run
def content_packages(
    context: dg.AssetExecutionContext,
    config: PackagesConfig,
    package_settings: PackageSettingsResource,
    commerce_api: CommerceApiResource,
    store: CatalogDatabase,
    package_writer: PackageWriter,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    shop = store_of(context)
    packages_root, package_writer = package_writer.root, package_writer.for_store(shop.key)
    store = store.for_store(shop.key)
    if shop.key == DEFAULT_STORE:  # a single-store folder of old, carried into default/
        with store.connect() as catalog:
            package_records.rebase_paths(catalog.con, str(packages_root), str(package_writer.root))
    templates = package_settings.checked_templates()  # loaded once per run
    settings, version = package_settings.settings(), package_settings.version(templates)
    claim = claim_work(context.log, store, package_writer, version, package_settings.variants_of,
                       max_items=config.max_items, max_attempts=package_settings.max_attempts)
    cache = package_writer.image_cache()
    batch = build_batch(context.log, config, claim.jobs, claim.products, PackageRenderer(templates, settings),
                        package_writer, cache, commerce_api.client_for(shop, configured=uses_own_settings()).fetch_image)
    with store.connect() as catalog:
        recorded = record_run(catalog, claim.items, batch, package_writer, cache)
        gallery = GalleryRefresh()
        if batch.disk_full is None:
            gallery = refresh_gallery(catalog.con, package_writer, config.repeat_max_distance,
                                      changed=bool(batch.built or recorded.failed or recorded.rerecorded))
    if batch.disk_full is None:  # the page listing every store, at the top of PACKAGES_DIR
        refresh_store_index(packages_root, [(key, listed.name) for key, listed in STORES.stores.items()])
    # Versions staged by a sync that this run did not publish (their product changed again, or
    # other variants or settings were asked for) are of no use now.
    orphan_builds_removed = package_writer.remove_orphan_builds()
    run = PackageRun(claim, batch, recorded, gallery, version, list(package_settings.variants), package_writer.root,
                     cache.bytes_written, claim.orphan_builds_swept + orphan_builds_removed, started)
    return _result(run, config.max_error_ratio)


def _result(run: PackageRun, max_error_ratio: float) -> dg.MaterializeResult:
    """The run's metadata, or a failure carrying it: a full disk fails the run, and so does an
    outage; products that were failing already and still fail do not."""
    metadata = run_metadata(run)
    failures, jobs = run.batch.failures, run.claim.jobs
    if run.batch.disk_full is not None:
        raise dg.Failure(description=str(run.batch.disk_full), metadata=metadata)
    new_failures = run.new_failures
    if jobs and len(new_failures) / len(jobs) > max_error_ratio:
        raise dg.Failure(description=f"{len(new_failures)} of {len(jobs)} packages failed anew "
                                     f"({len(failures)} failed in all)", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)
