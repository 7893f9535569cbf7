"""A content_packages run's results, and the one place they become the run's metadata."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from resources.commerce_api import percentile

from content_assets.packages.batch import BatchResult
from content_assets.packages.builder import VIDEO_BROKEN, VIDEO_MISSING
from content_assets.packages.claim import Claim, Job
from content_assets.packages.gallery import GALLERY_FILE, GalleryRefresh
from content_assets.packages.records import Recorded
from content_assets.packages.staleness import PackageVersion


@dataclass(frozen=True)
class PackageRun:
    """What one run claimed, built, recorded and refreshed."""

    claim: Claim
    batch: BatchResult
    recorded: Recorded
    gallery: GalleryRefresh
    version: PackageVersion
    variants: list[str]  # as configured, in order
    root: Path  # PACKAGES_DIR
    cache_bytes_written: int
    orphan_builds_removed: int  # swept at the start and removed at the end
    started: float  # time.perf_counter() when the run began

    @property
    def new_failures(self) -> list[Job]:
        """Failed packages of products that were not failing already: an outage, not old news."""
        return [key for key in self.batch.failures if key[0] not in self.claim.previously_failed]


def run_metadata(run: PackageRun) -> dict[str, Any]:
    metadata = {**_counts(run), **_sizes(run), **_timings(run), **_media(run), **_versions(run)}
    if run.batch.failures:
        metadata["failed_examples"] = dg.MetadataValue.json(
            {f"{number}/{variant}": message for (number, variant), message in list(run.batch.failures.items())[:10]})
    if run.batch.disk_full is None:  # a run the disk stopped fails before what failed anew is counted
        metadata["packages_failed_new"] = len(run.new_failures)
    return metadata


def _counts(run: PackageRun) -> dict[str, Any]:
    built = run.batch.built
    return {
        "dagster/row_count": run.recorded.package_rows,
        "packages_claimed": len(run.claim.items),
        "packages_stale": len(run.claim.stale),
        "packages_built": len(built),
        "packages_unchanged": len(run.batch.unchanged),
        "packages_prebuilt": sum(1 for o in built if o.prebuilt),  # staged by the sync, published here
        "orphan_builds_removed": run.orphan_builds_removed,
        "packages_failed": len(run.batch.failures),
    }


def _sizes(run: PackageRun) -> dict[str, Any]:
    build_seconds = [o.seconds for o in run.batch.outcomes]
    p50, p95 = _round(percentile(build_seconds, 50)), _round(percentile(build_seconds, 95))
    built = run.batch.built
    sizes = [o.write.size_bytes for o in built]
    return {
        "package_build_p50_seconds": p50,
        "package_build_p95_seconds": p95,
        "bytes_written": sum(o.write.bytes_written for o in built) + run.cache_bytes_written
                         + run.gallery.bytes_written,
        "package_size_bytes": sum(sizes),
        "package_size_p50_bytes": _percentile_int(sizes, 50),
    }


def _timings(run: PackageRun) -> dict[str, Any]:
    timings = [o.timings for o in run.batch.built]
    return {
        "image_download_seconds": _total(t.download_seconds for t in timings),
        "image_normalize_seconds": _total(t.normalize_seconds for t in timings),
        "image_hash_seconds": _total(t.hash_seconds for t in timings),
        "image_copy_seconds": _total(t.copy_seconds for t in timings),
        "keyframe_extract_seconds": _total(t.keyframe_seconds for t in timings),
        "zip_seconds": _total(t.zip_seconds for t in timings),
        "gallery_seconds": round(run.gallery.seconds, 4),
    }


def _media(run: PackageRun) -> dict[str, Any]:
    built, outcomes = run.batch.built, run.batch.outcomes
    timings = [o.timings for o in built]
    videos = [o.video for o in built if o.video is not None]
    return {
        "images_downloaded": sum(t.images_downloaded for t in timings),
        "images_normalized": sum(t.images_normalized for t in timings),
        "images_from_cache": sum(t.images_cached for t in timings),
        "videos_with_keyframes": sum(1 for v in videos if v.keyframes),
        "videos_broken": sum(1 for v in videos if v.status == VIDEO_BROKEN),
        "videos_missing": sum(1 for v in videos if v.status == VIDEO_MISSING),
        "packages_missing_pictures": sum(1 for o in outcomes if o.plan.missing),
        "pictures_missing": sum(len(o.plan.missing) for o in outcomes),
        "repeated_pictures": run.gallery.repeated_pictures,
        "image_pool_started": run.batch.image_pool_started,
    }


def _versions(run: PackageRun) -> dict[str, Any]:
    return {
        "variants": list(run.variants),
        "template_versions": dict(run.version.templates),
        "template_version": run.version.templates[run.variants[0]],
        "settings_hash": run.version.settings,
        "packages_dir": str(run.root),
        "gallery": str(run.root / GALLERY_FILE),
        "total_seconds": round(time.perf_counter() - run.started, 3),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _total(values: Iterable[float]) -> float:
    return round(sum(values), 4)


def _percentile_int(values: list[int], q: float) -> int | None:
    value = percentile([float(v) for v in values], q)
    return None if value is None else int(value)
