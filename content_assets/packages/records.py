"""What a package run records, in one transaction: a `packages` row and `package_images` rows for
every package it built, and for every unchanged one whose row is missing or out of date (read back
from its meta.json), and the claimed queue items done or failed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from resources.package_files.image_cache import ImageCache
from resources.package_files.writer import PackageWriter
from resources.store import CatalogStore, package_records, refresh_queue
from resources.store.package_records import PackageRecord, PictureRecord
from resources.store.refresh_queue import QueueItem

from content_assets.packages.batch import BatchResult
from content_assets.packages.builder import BuildOutcome
from content_assets.packages.package_meta import picture_record, read_meta, record_from_entry
from content_assets.packages.plan import MissingImage, PackageRenderer


@dataclass(frozen=True)
class Recorded:
    package_rows: int  # in the store after the run
    rerecorded: list[BuildOutcome]  # unchanged packages recorded again from their meta.json
    failed: list[tuple[QueueItem, str]]  # the queue items that ended failed, with their errors


def record_run(catalog: CatalogStore, items: list[QueueItem], batch: BatchResult, writer: PackageWriter,
               cache: ImageCache) -> Recorded:
    done, failed = batch.queue_results(items)
    rerecorded = _to_record_again(catalog, batch.unchanged)
    built = [_records_of_build(outcome, cache) for outcome in batch.built]
    again = [_records_from_meta(outcome, writer, cache) for outcome in rerecorded]
    packages = [package for package, _ in built + again]
    pictures = [picture for _, pictures in built + again for picture in pictures]
    catalog.con.execute("BEGIN TRANSACTION")
    package_records.record_packages(catalog.con, packages, pictures)
    refresh_queue.finish(catalog.con, done, failed)
    catalog.con.execute("COMMIT")
    return Recorded(catalog.count("packages"), rerecorded, failed)


def _to_record_again(catalog: CatalogStore, unchanged: list[BuildOutcome]) -> list[BuildOutcome]:
    """Unchanged packages normally have their row, of their version; one the store lost, or one of
    an older version (a run killed between publishing and recording), is recorded from its
    meta.json. So are unchanged packages still missing pictures: their next retry time has moved."""
    recorded = package_records.recorded_versions(catalog.con, [(o.plan.origin_product_no, o.plan.variant)
                                                               for o in unchanged])
    return [o for o in unchanged
            if recorded.get((o.plan.origin_product_no, o.plan.variant)) != o.plan.content_hash or o.plan.missing]


def _records_of_build(outcome: BuildOutcome, cache: ImageCache) -> tuple[PackageRecord, list[PictureRecord]]:
    plan, video = outcome.plan, outcome.video
    number, variant = plan.origin_product_no, plan.variant
    pictures = [picture_record(number, variant, image.file, cached.info, url)
                for image, url, cached in zip(plan.images, plan.image_urls, outcome.images, strict=True)]
    keyframes = video.keyframes if video else ()
    pictures += [picture_record(number, variant, image.file, frame.info, video.source_url)  # type: ignore[union-attr]
                 for image, frame in zip(PackageRenderer.keyframe_images(len(keyframes)), keyframes, strict=True)]
    video_fields = (video.status, video.error) if video else (None, None)
    return _package_record(outcome, cache, len(keyframes), *video_fields), pictures


def _records_from_meta(outcome: BuildOutcome, writer: PackageWriter, cache: ImageCache
                       ) -> tuple[PackageRecord, list[PictureRecord]]:
    """An unchanged package's records, from what its meta.json says."""
    number, variant = outcome.plan.origin_product_no, outcome.plan.variant
    meta = read_meta(writer, number, variant)
    video = meta.get("video") or {}
    entries = meta.get("images", []) + meta.get("keyframes", [])
    record = _package_record(outcome, cache, len(meta.get("keyframes", [])), video.get("status"), video.get("error"))
    return record, [record_from_entry(number, variant, entry) for entry in entries]


def _package_record(outcome: BuildOutcome, cache: ImageCache, keyframes: int, video_status: str | None,
                    video_error: str | None) -> PackageRecord:
    plan = outcome.plan
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
