"""Normalized product images and video keyframes on disk, cached by the content hash of their source.

Layout under the cache root (`PACKAGES_DIR/.cache`, on the packages' file system so package
folders can hard-link cached images instead of copying them):

    urls/ab/<sha256 of url>.json            which source content a URL served (sha256, size) and
                                            its normalized images' hashes and sizes, by settings key
    failures/ab/<sha256 of url>.json        why a URL gave no picture, and when to try it again
    images/cd/<source sha256>-<key>.jpg     the normalized image for one set of settings
    images/cd/<source sha256>-<key>.json    the record of the URL that first served it: a hard link
                                            to that URL's record file, made last (the commit marker)
    keyframes/ef/<video sha256>-<key>-n<N>/ the keyframes of a video and their index.json
    tmp/                                    files being written; swept at the start of a run

A source is downloaded once: its URL maps to its content hash, and equal content behind
different URLs is normalized once. Product images on Naver's CDN live at upload-unique URLs,
which is what makes mapping a URL to content safe. Every file is written to `tmp/` and renamed
into place, so a reader finds a whole entry or none.

A picture costs two new files, the JPEG and its URL's record; the record found by content is the
same file under a second name. A new file is the dearest thing a cache write does (on ext4
without a journal, 0.03-1.2 ms of kernel time by the state of the file system, against 0.03 ms
for a link), and a run of a thousand products writes some five thousand pictures. A record by content written
before this layout (the image's own hashes, with `sourceSizeBytes`) reads as before.

A URL that gave no usable picture (404, not an image, too big, ...) is tried again only after a
backoff that grows with each failure. The sync's warm-up and the package run share these records,
so a dead URL is fetched about once a day, not once a run, and a picture that comes back is
picked up by the first run after its retry is due.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .layout import NO_HARD_LINKS, clear_folder, in_folder_made_if_missing

_HEX = frozenset("0123456789abcdef")
# Waits before a failed picture is tried again: after the 1st, 2nd, 3rd failure; then daily.
RETRY_BACKOFF_SECONDS = (3600.0, 6 * 3600.0, 24 * 3600.0)


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    phash: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class CachedImage:
    path: Path  # the normalized JPEG
    info: ImageInfo
    source_sha256: str
    source_size_bytes: int


@dataclass(frozen=True)
class CachedKeyframe:
    path: Path
    info: ImageInfo
    time_seconds: float


@dataclass(frozen=True)
class SourceRecord:
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class SourceFailure:
    """Why a URL gave no picture, and when it is worth trying again (epoch seconds)."""

    url: str
    reason: str
    failures: int
    first_failed_at: float
    last_failed_at: float
    retry_after: float

    def due(self, now: float) -> bool:
        return now >= self.retry_after


def _is_hex(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and set(value) <= _HEX


def _check_hex(value: str, what: str) -> str:
    if not _is_hex(value):
        raise ValueError(f"{what} must be a lowercase hex digest, got {value!r}")
    return value


def _images(record: dict) -> dict:
    """The images a record notes, by settings key ({} when it notes none)."""
    images = record.get("images")
    return images if isinstance(images, dict) else {}


def _entry(record: dict, settings_key: str) -> object:
    """A record's image for these settings (None when it notes none)."""
    return _images(record).get(settings_key)


class ImageCache:
    """Thread-safe: concurrent writers of one entry write equal bytes, and the last rename wins."""

    def __init__(self, root: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self._failures_root = str(self.root / "failures")
        self.clock = clock  # wall-clock seconds: failure records outlive the process
        self.bytes_written = 0  # by this instance; a run reads it for its metadata
        self._count_lock = threading.Lock()

    # -- sources ------------------------------------------------------------------------------

    def source_of(self, url: str) -> SourceRecord | None:
        record = self._read_json(self._url_path(url))
        return None if record is None else SourceRecord(record["sha256"], int(record["sizeBytes"]))

    def remember_source(self, url: str, sha256: str, size_bytes: int) -> None:
        path = self._url_path(url)
        if not path.exists():
            self._write_json(path, {"url": url, "sha256": _check_hex(sha256, "sha256"), "sizeBytes": size_bytes})

    def remember_image(self, url: str, settings_key: str, image: CachedImage) -> None:
        """Note that `url` served the source of `image` (a picture cached from another URL), so the
        next lookup of this URL reads one record."""
        path = self._url_path(url)
        images = self._images_of(path, image.source_sha256) | {settings_key: _record(image.info)}
        self._write_json(path, {"url": url, "sha256": image.source_sha256, "sizeBytes": image.source_size_bytes,
                                "images": images})

    # -- sources that failed --------------------------------------------------------------------

    def failure_of(self, url: str) -> SourceFailure | None:
        record = self._read_json(self._failure_path(url))
        try:
            return None if record is None else SourceFailure(
                url, str(record["reason"]), int(record["failures"]), float(record["firstFailedAt"]),
                float(record["lastFailedAt"]), float(record["retryAfter"]))
        except (KeyError, TypeError, ValueError):
            return None  # a torn record: the URL is simply tried again

    def record_failure(self, url: str, reason: str) -> SourceFailure:
        """Count one more failure of `url`; its next try waits by RETRY_BACKOFF_SECONDS."""
        now = self.clock()
        previous = self.failure_of(url)
        failures = previous.failures + 1 if previous else 1
        wait = RETRY_BACKOFF_SECONDS[min(failures, len(RETRY_BACKOFF_SECONDS)) - 1]
        failure = SourceFailure(url, reason, failures, previous.first_failed_at if previous else now, now, now + wait)
        self._write_json(Path(self._failure_path(url)), {
            "url": url, "reason": reason, "failures": failures, "firstFailedAt": failure.first_failed_at,
            "lastFailedAt": now, "retryAfter": failure.retry_after})
        return failure

    def clear_failure(self, url: str) -> None:
        """The URL gave a picture: forget that it ever failed."""
        try:
            os.unlink(self._failure_path(url))
        except FileNotFoundError:
            pass

    # -- normalized images --------------------------------------------------------------------

    def image_of(self, url: str, settings_key: str) -> CachedImage | None:
        """The normalized image of the picture at `url` for these settings, None when there is none."""
        record = self._read_json(self._url_path(url))
        if record is None:
            return None
        source = record.get("sha256")
        if not _is_hex(source):
            return None  # torn: the picture is simply fetched again
        entry = _entry(record, settings_key)
        if entry is None:  # a record from before images were noted by URL: found by content
            return self.normalized(source, settings_key)
        return self._cached(source, settings_key, entry, record.get("sizeBytes"))

    def normalized(self, source_sha256: str, settings_key: str) -> CachedImage | None:
        """The normalized image of this source content for these settings, whatever URL served it."""
        _, record_path = self._image_paths(source_sha256, settings_key)
        record = self._read_json(record_path)
        if record is None:
            return None
        if "images" not in record:  # written before this layout: the image's own record
            return self._cached(source_sha256, settings_key, record, record.get("sourceSizeBytes"))
        entry = _entry(record, settings_key)
        return None if entry is None else self._cached(source_sha256, settings_key, entry, record.get("sizeBytes"))

    def store_normalized(
        self, source_sha256: str, source_size_bytes: int, settings_key: str, data: bytes, info: ImageInfo,
        *, url: str | None = None,
    ) -> CachedImage:
        """Put a normalized image in the cache; with `url`, the URL's record notes it too and is
        the record found by content (one file, two names)."""
        image_path, record_path = self._image_paths(source_sha256, settings_key)
        self._write_bytes(image_path, data)
        record = {"sha256": source_sha256, "sizeBytes": source_size_bytes, "images": {settings_key: _record(info)}}
        if url is None:
            self._write_json(record_path, record)
        else:
            url_path = self._url_path(url)
            record["images"] = self._images_of(url_path, source_sha256) | record["images"]
            record = {"url": url, **record}
            self._write_json(url_path, record)
            self._link(url_path, record_path, record)
        return CachedImage(image_path, info, source_sha256, source_size_bytes)

    def _cached(self, source_sha256: str, settings_key: str, entry: object, source_size_bytes: object
                ) -> CachedImage | None:
        """The entry's image, None when its JPEG is gone or the record does not hold together."""
        image_path, _ = self._image_paths(source_sha256, settings_key)
        try:
            image = CachedImage(image_path, _info(entry), source_sha256, int(source_size_bytes))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return None
        return image if image_path.is_file() else None

    def _images_of(self, url_path: Path, source_sha256: str) -> dict:
        """The images an existing record of this URL notes for the same content (other settings)."""
        record = self._read_json(url_path)
        return _images(record) if record is not None and record.get("sha256") == source_sha256 else {}

    # -- video keyframes ----------------------------------------------------------------------

    def keyframes(self, video_sha256: str, settings_key: str, count: int) -> list[CachedKeyframe] | None:
        folder = self._keyframes_dir(video_sha256, settings_key, count)
        index = self._read_json(folder / "index.json")
        if index is None:
            return None
        return [CachedKeyframe(folder / entry["file"], _info(entry), float(entry["timeSeconds"]))
                for entry in index["keyframes"]]

    def store_keyframes(
        self, video_sha256: str, settings_key: str, count: int, frames: list[tuple[bytes, ImageInfo, float]]
    ) -> list[CachedKeyframe]:
        folder = self._keyframes_dir(video_sha256, settings_key, count)
        staging = self._tmp_path()
        staging.mkdir(parents=True)
        entries = []
        for number, (data, info, seconds) in enumerate(frames, start=1):
            name = f"{number:02d}.jpg"
            self._write_file(staging / name, data)
            entries.append({**_record(info), "file": name, "timeSeconds": seconds})
        self._write_file(staging / "index.json", json.dumps({"keyframes": entries}).encode(), durable=False)
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging, folder)
        except OSError:  # another thread stored the same video first: its entry is equal
            shutil.rmtree(staging, ignore_errors=True)
        return self.keyframes(video_sha256, settings_key, count) or []

    # -- housekeeping -------------------------------------------------------------------------

    def sweep(self) -> int:
        """Remove what a killed run left half-written; returns the entries removed."""
        return clear_folder(self.root / "tmp")

    # -- paths and atomic writes --------------------------------------------------------------

    def _url_path(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()
        return self.root / "urls" / digest[:2] / f"{digest}.json"

    def _failure_path(self, url: str) -> str:
        # Asked for every picture of every package a run publishes, and nearly always absent: a
        # string path, no Path objects made for a file that is not there.
        digest = hashlib.sha256(url.encode()).hexdigest()
        return os.path.join(self._failures_root, digest[:2], f"{digest}.json")

    def _image_paths(self, source_sha256: str, settings_key: str) -> tuple[Path, Path]:
        stem = f"{_check_hex(source_sha256, 'source sha256')}-{_check_hex(settings_key, 'settings key')}"
        folder = self.root / "images" / source_sha256[:2]
        return folder / f"{stem}.jpg", folder / f"{stem}.json"

    def _keyframes_dir(self, video_sha256: str, settings_key: str, count: int) -> Path:
        stem = f"{_check_hex(video_sha256, 'video sha256')}-{_check_hex(settings_key, 'settings key')}-n{int(count)}"
        return self.root / "keyframes" / video_sha256[:2] / stem

    def _tmp_path(self) -> Path:
        # One of 16 folders, by thread: a new file is made under its folder's lock, which on a
        # slow file system (ext4 without a journal can spend a millisecond finding a free inode)
        # the image pool's threads would otherwise queue on, spinning.
        return self.root / "tmp" / f"t{threading.get_native_id() % 16:x}" / uuid.uuid4().hex

    def _write_json(self, path: Path, record: dict) -> None:
        # Not synced: a record lost or torn by a power cut reads as a cache miss (see _read_json).
        self._write_bytes(path, json.dumps(record, sort_keys=True).encode(), durable=False)

    def _write_bytes(self, path: Path, data: bytes, *, durable: bool = True) -> None:
        temporary = self._tmp_path()
        in_folder_made_if_missing(lambda: self._write_file(temporary, data, durable=durable), temporary.parent)
        self._move_into_place(temporary, path)

    def _link(self, existing: Path, path: Path, record: dict) -> None:
        """`path` as a second name of the record file `existing`, replacing what was there in one
        step; a copy of `record` where the file system has no hard links."""
        temporary = self._tmp_path()
        try:
            in_folder_made_if_missing(lambda: os.link(existing, temporary), temporary.parent)
        except OSError as exc:
            if exc.errno not in NO_HARD_LINKS:
                raise
            self._write_json(path, record)
            return
        self._move_into_place(temporary, path)

    @staticmethod
    def _move_into_place(temporary: Path, path: Path) -> None:
        in_folder_made_if_missing(lambda: os.replace(temporary, path), path.parent)

    def _write_file(self, path: Path, data: bytes, *, durable: bool = True) -> None:
        with open(path, "wb") as handle:
            handle.write(data)
            if durable:
                # Package folders hard-link pictures: they must survive a power cut whole.
                handle.flush()
                os.fsync(handle.fileno())
        with self._count_lock:
            self.bytes_written += len(data)

    @staticmethod
    def _read_json(path: Path | str) -> dict | None:
        """The record, or None when it is missing or torn (then the entry is simply rebuilt)."""
        try:
            with open(path, "rb") as handle:
                record = json.loads(handle.read())
        except (FileNotFoundError, ValueError):
            return None
        return record if isinstance(record, dict) else None


def _record(info: ImageInfo) -> dict:
    return {"sha256": info.sha256, "phash": info.phash, "width": info.width, "height": info.height,
            "sizeBytes": info.size_bytes}


def _info(record: dict) -> ImageInfo:
    return ImageInfo(record["sha256"], record["phash"], int(record["width"]), int(record["height"]),
                     int(record["sizeBytes"]))
