"""A package's meta.json: the one reader of it, and the one place a picture (a normalized image
or a video keyframe) becomes its meta entry and its store record, and a meta entry becomes a
record or an `ImageInfo` again.

A picture's entry holds `file`, `sha256`, `phash`, `width`, `height` and `sizeBytes`; an image's
also its `sourceUrl`, `sourceSha256` and `sourceSizeBytes`, a keyframe's its `timeSeconds`.
"""

from __future__ import annotations

import json
from typing import Any

from resources.package_files.image_cache import CachedImage, CachedKeyframe, ImageInfo
from resources.package_files.writer import PackageWriter
from resources.store.package_records import PictureRecord

META_FILE = "meta.json"


def read_meta(writer: PackageWriter, origin_product_no: int, variant: str) -> Any:
    """The package's meta.json, parsed (a dict unless the file was tampered with); OSError when it
    cannot be read, ValueError when it is not JSON."""
    return json.loads(writer.read_file(origin_product_no, variant, META_FILE))


def info_fields(info: ImageInfo) -> dict[str, Any]:
    """The fields every picture entry has beside its file (meta.json, the unique pack's manifest)."""
    return {"sha256": info.sha256, "phash": info.phash, "width": info.width, "height": info.height,
            "sizeBytes": info.size_bytes}


def info_of(entry: dict[str, Any]) -> ImageInfo:
    return ImageInfo(entry["sha256"], entry["phash"], entry["width"], entry["height"], entry["sizeBytes"])


def image_entry(file: str, source_url: str, image: CachedImage) -> dict[str, Any]:
    return {"file": file, "sourceUrl": source_url, "sourceSha256": image.source_sha256,
            "sourceSizeBytes": image.source_size_bytes, **info_fields(image.info)}


def keyframe_entry(file: str, frame: CachedKeyframe) -> dict[str, Any]:
    return {"file": file, "timeSeconds": round(frame.time_seconds, 3), **info_fields(frame.info)}


def picture_record(origin_product_no: int, variant: str, file: str, info: ImageInfo,
                   source_url: str | None) -> PictureRecord:
    return PictureRecord(origin_product_no, variant, file, info.sha256, info.phash, source_url,
                         info.width, info.height, info.size_bytes)


def record_from_entry(origin_product_no: int, variant: str, entry: dict[str, Any]) -> PictureRecord:
    """A picture's record read back from its meta entry (a keyframe's has no source URL there)."""
    return picture_record(origin_product_no, variant, entry["file"], info_of(entry), entry.get("sourceUrl"))
