"""The content_packages asset: a Naver Blog package for every product waiting in the refresh queue,
and for every package a changed template or setting made stale.

A package per product and variant: post.html (inline styles, upload placeholders, the advertising
disclosure), preview.html, meta.json, images/NN.jpg, keyframes/NN.jpg from the product video,
package.zip and unique-pack.zip. After the run, index.html (the gallery) and repeats.json (pictures
that look alike across packages) at the top of PACKAGES_DIR are refreshed.
"""

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Optional

import dagster as dg
import duckdb

from resources.store import package_records
from resources.commerce_api import CommerceApiResource, percentile
from resources.package_files.image_cache import ImageCache
from resources.store.package_records import PackageRecord, PictureRecord
from resources.package_files.writer import DiskFullError, PackageWriter, as_disk_full
from content_assets.run_stoppers import stops_run
from resources.store import DuckDBStore, refresh_queue

from content_assets.packages.media.normalize import NormalizeSettings
from content_assets.packages.media.image_pool import ImagePool
from content_assets.packages.media.keyframes import DEFAULT_KEYFRAMES
from content_assets.packages.builder import (
    DEFAULT_PICTURE_MAX_BYTES,
    DEFAULT_VIDEO_MAX_BYTES,
    VIDEO_BROKEN,
    VIDEO_MISSING,
    BuildOutcome,
    PackageBuilder,
)
from content_assets.packages.gallery import render_gallery, render_repeats_json, repeats_report
from content_assets.packages.archive import DEFAULT_DEFLATE_LEVEL
from content_assets.packages.plan import (
    DEFAULT_DISCLOSURE,
    MissingImage,
    PackageRenderer,
    PackageSettings,
    TemplateSet,
    load_package_products,
)
from content_assets.packages.media.perceptual_hash import DEFAULT_MAX_DISTANCE, HashedImage, find_repeats
from content_assets.pool import GROUP, POOL


class PackagesConfig(dg.Config):
    variants: list[str] = ["default"]  # templates/<variant>.html.j2: default, review, intro, ...
    ab_split: bool = False  # True: each product gets one of `variants`, by a stable hash of its number
    disclosure: str = DEFAULT_DISCLOSURE  # the 경제적 이해관계 표시 at the top of every post
    templates_dir: Optional[str] = None  # searched before the project's templates
    image_max_width: int = NormalizeSettings.max_width
    image_quality: int = NormalizeSettings.quality
    keyframes: int = DEFAULT_KEYFRAMES  # per product video; 0 skips videos
    zip_deflate_level: int = DEFAULT_DEFLATE_LEVEL  # HTML and JSON; pictures are stored
    package_threads: Optional[int] = None  # packages built at once (plan, zip, write); default: CPU count
    download_threads: int = 8  # picture downloads at once, across packages
    image_threads: Optional[int] = None  # threads for image and video work; default: CPU count
    images_in_flight: int = 16  # pictures downloaded but not yet in the cache, at most
    video_max_bytes: int = DEFAULT_VIDEO_MAX_BYTES
    picture_max_bytes: int = DEFAULT_PICTURE_MAX_BYTES  # a bigger picture is refused as it downloads
    strict_pictures: bool = False  # True: a picture that cannot be had fails its package (else it is left out)
    repeat_max_distance: int = DEFAULT_MAX_DISTANCE  # perceptual-hash bits for "the same picture"
    max_items: Optional[int] = None
    max_attempts: int = 3
    max_error_ratio: float = 0.2


def variant_for(origin_product_no: int, variants: list[str]) -> str:
    """A/B assignment that never changes for a product while the variant list stays the same."""
    digest = hashlib.sha256(f"ab:{origin_product_no}".encode()).digest()
    return variants[int.from_bytes(digest[:4], "big") % len(variants)]


@dg.asset(deps=["refresh_queue"], group_name=GROUP, kinds={"duckdb", "html"}, pool=POOL,
          description="A Naver Blog package (post.html, meta.json, images, keyframes, zips) per queued product.")
@stops_run
def content_packages(
    context: dg.AssetExecutionContext,
    config: PackagesConfig,
    commerce_api: CommerceApiResource,
    store: DuckDBStore,
    package_writer: PackageWriter,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    templates = TemplateSet(config.templates_dir)  # loaded once per run
    settings = PackageSettings(
        disclosure=config.disclosure,
        image=NormalizeSettings(max_width=config.image_max_width, quality=config.image_quality),
        keyframes=config.keyframes,
        zip_deflate_level=config.zip_deflate_level,
    )
    if not config.variants:
        raise dg.Failure("config.variants must name at least one template variant")
    for variant in config.variants:
        templates.get(variant)  # an unknown variant fails the run before anything is claimed

    def variants_of(number: int) -> list[str]:
        return [variant_for(number, config.variants)] if config.ab_split else list(config.variants)

    # What a killed run left half-written; versions the sync staged stay until this run is done.
    swept = package_writer.sweep(orphan_builds=False)
    if swept.staging_removed or swept.orphan_builds_removed or swept.cache_entries_removed:
        context.log.info(f"swept leftovers of an interrupted run: {swept}")

    with store.connect() as catalog:
        # Items that had already failed before this run: failing again, they do not count as new.
        previously_failed = refresh_queue.failed_products(catalog.con)
        items = refresh_queue.claim(catalog.con, limit=config.max_items, max_attempts=config.max_attempts)
        claimed = {item.origin_product_no for item in items}
        stale = _stale_packages(catalog.con, templates, settings, variants_of, claimed)
        numbers = sorted(claimed | {number for number, _ in stale})
        products = load_package_products(catalog.con, numbers)

    jobs: list[tuple[int, str]] = [(item.origin_product_no, v) for item in items for v in variants_of(item.origin_product_no)]
    jobs += sorted(stale)
    renderer = PackageRenderer(templates, settings)
    cache = package_writer.image_cache()
    client = commerce_api.get_client()

    outcomes: list[BuildOutcome] = []
    failures: dict[tuple[int, str], str] = {}  # (product, variant) -> what went wrong
    disk_full: DiskFullError | None = None  # set once: the rest of the run is not attempted
    with ImagePool(config.image_threads, config.images_in_flight) as pool, \
            ThreadPoolExecutor(max_workers=max(1, config.download_threads), thread_name_prefix="download") as downloads:
        builder = PackageBuilder(renderer, package_writer, cache, client.fetch_image, pool, downloads,
                                 video_max_bytes=config.video_max_bytes, picture_max_bytes=config.picture_max_bytes,
                                 strict_pictures=config.strict_pictures)

        out_of_space = threading.Event()  # seen by a package thread: the others start no package

        def build(job: tuple[int, str]) -> BuildOutcome:
            number, variant = job
            product = products.get(number)
            if product is None:
                raise LookupError(f"originProductNo {number} is queued but not in products")
            if out_of_space.is_set():
                raise DiskFullError(package_writer.root)
            try:
                return builder.build(product, variant)
            except Exception as exc:
                if as_disk_full(exc, package_writer.root) is not None:
                    out_of_space.set()
                raise

        package_threads = config.package_threads or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=max(1, package_threads), thread_name_prefix="package") as threads:
            futures = {threads.submit(build, job): job for job in jobs}
            for index, (future, (number, variant)) in enumerate(futures.items(), start=1):
                if disk_full is not None and future.cancel():  # every later package would fail alike
                    failures[(number, variant)] = f"{variant}: {disk_full}"
                    continue
                try:
                    outcomes.append(future.result())
                except Exception as exc:  # one bad product never fails the batch; it is recorded
                    failures[(number, variant)] = f"{variant}: {type(exc).__name__}: {exc}"
                    if disk_full is None and (disk_full := as_disk_full(exc, package_writer.root)) is not None:
                        context.log.error(str(disk_full))
                    elif disk_full is None:
                        context.log.warning(f"package {number}/{variant} failed: {type(exc).__name__}: {exc}")
                if index % 200 == 0:
                    context.log.info(f"packages: {index}/{len(jobs)} done")
        image_pool_started = pool.started

    # A queue item is done when every variant of its product was built.
    errors_by_product: dict[int, list[str]] = {}
    for (number, _), message in failures.items():
        errors_by_product.setdefault(number, []).append(message)
    done = [item for item in items if item.origin_product_no not in errors_by_product]
    failed = [(item, "; ".join(errors_by_product[item.origin_product_no])) for item in items
              if item.origin_product_no in errors_by_product]
    built = [outcome for outcome in outcomes if not outcome.unchanged]
    unchanged = [outcome for outcome in outcomes if outcome.unchanged]

    with store.connect() as catalog:
        # Unchanged packages normally have their row, of their version; one the store lost, or one
        # of an older version (a run killed between publishing and recording), is recorded from its
        # meta.json.
        recorded = package_records.recorded_versions(catalog.con, [(o.plan.origin_product_no, o.plan.variant)
                                                                   for o in unchanged])
        # So are unchanged packages still missing pictures: their next retry time has moved.
        unrecorded = [o for o in unchanged
                      if recorded.get((o.plan.origin_product_no, o.plan.variant)) != o.plan.content_hash
                      or o.plan.missing]
        packages = [_package_record(o, package_writer, cache) for o in built + unrecorded]
        pictures = [picture for o in built for picture in _picture_records(o)]
        pictures += [picture for o in unrecorded for picture in _pictures_from_meta(o, package_writer)]
        catalog.con.execute("BEGIN TRANSACTION")
        package_records.record_packages(catalog.con, packages, pictures)
        refresh_queue.finish(catalog.con, done, failed)
        catalog.con.execute("COMMIT")
        package_rows = catalog.count("packages")

        gallery_bytes_written = gallery_seconds = 0.0
        repeat_count: int | None = None  # known when the report was refreshed
        if disk_full is None and (built or failed or unrecorded or not (package_writer.root / "index.html").exists()):
            gallery_started = time.perf_counter()
            hashes = [HashedImage(*row) for row in package_records.picture_hashes(catalog.con)]
            repeats = find_repeats(hashes, config.repeat_max_distance)
            repeat_count = len({(r.image.origin_product_no, r.image.variant, r.image.file) for r in repeats})
            gallery_bytes_written += package_writer.write_root_file(
                "repeats.json", render_repeats_json(repeats_report(repeats, config.repeat_max_distance)))
            gallery_bytes_written += package_writer.write_root_file(
                "index.html", render_gallery(package_records.gallery_rows(catalog.con), repeats,
                                             package_records.quarantined_products(catalog.con)))
            gallery_seconds = time.perf_counter() - gallery_started

    # Versions staged by a sync that this run did not publish (their product changed again, or
    # other variants or settings were asked for) are of no use now.
    orphan_builds_removed = package_writer.remove_orphan_builds()
    build_seconds = [o.seconds for o in outcomes]
    timings = [o.timings for o in built]
    sizes = [o.write.size_bytes for o in built]
    videos = [o.video for o in built if o.video is not None]
    bytes_written = sum(o.write.bytes_written for o in built) + cache.bytes_written + int(gallery_bytes_written)
    metadata = {
        "dagster/row_count": package_rows,
        "packages_claimed": len(items),
        "packages_stale": len(stale),
        "packages_built": len(built),
        "packages_unchanged": len(unchanged),
        "packages_prebuilt": sum(1 for o in built if o.prebuilt),  # staged by the sync, published here
        "orphan_builds_removed": swept.orphan_builds_removed + orphan_builds_removed,
        "packages_failed": len(failures),
        "package_build_p50_seconds": _round(percentile(build_seconds, 50)),
        "package_build_p95_seconds": _round(percentile(build_seconds, 95)),
        "package_build_seconds": {"p50": _round(percentile(build_seconds, 50)),
                                  "p95": _round(percentile(build_seconds, 95))},
        "bytes_written": bytes_written,
        "package_size_bytes": sum(sizes),
        "package_size_p50_bytes": _percentile_int(sizes, 50),
        "image_download_seconds": _total(t.download_seconds for t in timings),
        "image_normalize_seconds": _total(t.normalize_seconds for t in timings),
        "image_hash_seconds": _total(t.hash_seconds for t in timings),
        "image_copy_seconds": _total(t.copy_seconds for t in timings),
        "keyframe_extract_seconds": _total(t.keyframe_seconds for t in timings),
        "zip_seconds": _total(t.zip_seconds for t in timings),
        "gallery_seconds": round(gallery_seconds, 4),
        "images_downloaded": sum(t.images_downloaded for t in timings),
        "images_normalized": sum(t.images_normalized for t in timings),
        "images_from_cache": sum(t.images_cached for t in timings),
        "images_from_previous_package": sum(t.images_from_previous_package for t in timings),
        "videos_with_keyframes": sum(1 for v in videos if v.keyframes),
        "videos_broken": sum(1 for v in videos if v.status == VIDEO_BROKEN),
        "videos_missing": sum(1 for v in videos if v.status == VIDEO_MISSING),
        "packages_missing_pictures": sum(1 for o in outcomes if o.plan.missing),
        "pictures_missing": sum(len(o.plan.missing) for o in outcomes),
        "repeated_pictures": repeat_count,
        "image_pool_started": image_pool_started,
        "variants": list(config.variants),
        "template_versions": {v: templates.get(v).version for v in config.variants},
        "template_version": templates.get(config.variants[0]).version,
        "settings_hash": settings.fingerprint,
        "packages_dir": str(package_writer.root),
        "gallery": str(package_writer.root / "index.html"),
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    if failures:
        metadata["failed_examples"] = dg.MetadataValue.json(
            {f"{number}/{variant}": message for (number, variant), message in list(failures.items())[:10]})
    if disk_full is not None:
        raise dg.Failure(description=str(disk_full), metadata=metadata)
    # An outage fails the run; products that were failing already and still fail do not.
    new_failures = [key for key in failures if key[0] not in previously_failed]
    metadata["packages_failed_new"] = len(new_failures)
    if jobs and len(new_failures) / len(jobs) > config.max_error_ratio:
        raise dg.Failure(description=f"{len(new_failures)} of {len(jobs)} packages failed anew "
                                     f"({len(failures)} failed in all)", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


def _stale_packages(con: duckdb.DuckDBPyConnection, templates: TemplateSet, settings: PackageSettings,
                    variants_of: Callable[[int], list[str]], claimed: set[int]) -> set[tuple[int, str]]:
    """(product, variant) pairs of packaged live products whose package for a wanted variant is
    missing, was built by another template version or other settings, or lacks pictures whose
    retry is due (package_records.MISSING_RETRY_DUE). Claimed products are built anyway."""
    built = package_records.packages_of_live_products(con)
    by_product: dict[int, dict[str, package_records.BuiltPackage]] = {}
    for package in built:
        by_product.setdefault(package.origin_product_no, {})[package.variant] = package
    stale: set[tuple[int, str]] = set()
    for number, packages in by_product.items():
        if number in claimed:
            continue
        for variant in variants_of(number):
            package = packages.get(variant)
            if (package is None or package.template_version != templates.get(variant).version
                    or package.settings_hash != settings.fingerprint or package.missing_retry_due):
                stale.add((number, variant))
    return stale


def _package_record(outcome: BuildOutcome, writer: PackageWriter, cache: ImageCache) -> PackageRecord:
    plan, video = outcome.plan, outcome.video
    keyframes = len(video.keyframes) if video else 0
    if outcome.unchanged:  # recorded again after the store lost its row: read what the package says
        meta = _read_meta(outcome, writer)
        video_meta = meta.get("video") or {}
        keyframes = len(meta.get("keyframes", []))
        video_status, video_error = video_meta.get("status"), video_meta.get("error")
    else:
        video_status, video_error = (video.status, video.error) if video else (None, None)
    return PackageRecord(
        origin_product_no=plan.origin_product_no,
        variant=plan.variant,
        path=str(outcome.write.path),
        content_hash=plan.content_hash,
        size_bytes=outcome.write.size_bytes,
        template_name=plan.template.name,
        template_version=plan.template.version,
        settings_hash=plan.settings.fingerprint,
        image_count=len(plan.images),
        keyframe_count=keyframes,
        video_status=video_status,
        video_error=video_error,
        **_missing_fields(plan.missing, cache),
    )


def _missing_fields(missing: tuple[MissingImage, ...], cache: ImageCache) -> dict[str, Any]:
    """The record's account of missing pictures; the retry time is the first failure record's
    (a picture without one is due now)."""
    if not missing:
        return {}
    retries = [failure.retry_after if (failure := cache.failure_of(item.source_url)) else cache.clock()
               for item in missing]
    return {"missing_images": len(missing),
            "missing_image_reasons": json.dumps([item.as_meta() for item in missing], ensure_ascii=False),
            "missing_retry_at": datetime.fromtimestamp(min(retries), timezone.utc)}


def _picture_records(outcome: BuildOutcome) -> list[PictureRecord]:
    plan = outcome.plan
    records = [
        PictureRecord(plan.origin_product_no, plan.variant, image.file, cached.info.sha256, cached.info.phash, url,
                      cached.info.width, cached.info.height, cached.info.size_bytes)
        for image, url, cached in zip(plan.images, plan.image_urls, outcome.images, strict=True)
    ]
    for number, frame in enumerate(outcome.video.keyframes if outcome.video else (), start=1):
        records.append(PictureRecord(plan.origin_product_no, plan.variant, f"keyframes/{number:02d}.jpg",
                                     frame.info.sha256, frame.info.phash, outcome.video.source_url,  # type: ignore[union-attr]
                                     frame.info.width, frame.info.height, frame.info.size_bytes))
    return records


def _pictures_from_meta(outcome: BuildOutcome, writer: PackageWriter) -> list[PictureRecord]:
    meta = _read_meta(outcome, writer)
    plan = outcome.plan
    return [
        PictureRecord(plan.origin_product_no, plan.variant, entry["file"], entry["sha256"], entry["phash"],
                      entry.get("sourceUrl"), entry["width"], entry["height"], entry["sizeBytes"])
        for entry in meta.get("images", []) + meta.get("keyframes", [])
    ]


def _read_meta(outcome: BuildOutcome, writer: PackageWriter) -> dict:
    return json.loads(writer.read_file(outcome.plan.origin_product_no, outcome.plan.variant, "meta.json"))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _total(values: Iterable[float]) -> float:
    return round(sum(values), 4)


def _percentile_int(values: list[int], q: float) -> int | None:
    value = percentile([float(v) for v in values], q)
    return None if value is None else int(value)
