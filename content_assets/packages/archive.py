"""Zips of a package: per-type compression, byte-identical for identical input, and the compression
experiment the perf report quotes.

JPEGs and videos are already compressed: deflating them costs time and saves almost nothing, so
they are stored; HTML and JSON are deflated at a configurable level. Entry times come from the
product's modifiedDate and entries are in a fixed order, so an unchanged package zips to the
same bytes and the writer can skip it.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DEFAULT_DEFLATE_LEVEL = 6
COMPRESSION_LEVELS = {"low": 1, "default": DEFAULT_DEFLATE_LEVEL, "high": 9}
STORED_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".zip"})
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def is_stored(name: str) -> bool:
    return Path(name).suffix.lower() in STORED_SUFFIXES


def zip_bytes(
    files: Mapping[str, bytes],
    *,
    deflate_level: int = DEFAULT_DEFLATE_LEVEL,
    modified: datetime | None = None,
    deflate_everything: bool = False,
) -> bytes:
    """A zip of `files` (name -> bytes) in name order; images stored, text deflated."""
    if not 0 <= deflate_level <= 9:
        raise ValueError(f"deflate level must be 0..9, got {deflate_level}")
    date_time = _zip_time(modified)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, date_time=date_time)
            entry.create_system = 3  # unix, so the permission bits below are honoured
            entry.external_attr = 0o644 << 16
            if is_stored(name) and not deflate_everything:
                archive.writestr(entry, files[name], compress_type=zipfile.ZIP_STORED)
            else:
                archive.writestr(entry, files[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=deflate_level)
    return buffer.getvalue()


def _zip_time(modified: datetime | None) -> tuple[int, int, int, int, int, int]:
    if modified is None or modified.year < 1980:
        return _ZIP_EPOCH
    return (modified.year, modified.month, modified.day, modified.hour, modified.minute, modified.second - modified.second % 2)


@dataclass(frozen=True)
class CompressionTrial:
    """One way of zipping one package: how big, how long."""

    name: str  # low | default | high
    level: int
    deflate_everything: bool  # False: the package's policy (images stored); True: all deflated
    input_bytes: int
    zip_bytes: int
    seconds: float  # the best of `repeats` runs, to keep noise from other processes out

    @property
    def ratio(self) -> float:
        return self.zip_bytes / self.input_bytes if self.input_bytes else 1.0


def compression_experiment(
    package_dir: Path, levels: Mapping[str, int] = COMPRESSION_LEVELS, repeats: int = 3
) -> list[CompressionTrial]:
    """Zip one package folder at each level, with the per-type policy and with everything deflated.

    Reads the package's files (zips inside it excluded) and zips in memory; writes nothing.
    """
    files = {
        path.relative_to(package_dir).as_posix(): path.read_bytes()
        for path in sorted(Path(package_dir).rglob("*"))
        if path.is_file() and path.suffix != ".zip"
    }
    if not files:
        raise ValueError(f"{package_dir} holds no package files")
    input_bytes = sum(len(data) for data in files.values())
    trials = []
    for deflate_everything in (False, True):
        for name, level in levels.items():
            best = float("inf")
            size = 0
            for _ in range(max(1, repeats)):
                started = time.perf_counter()
                size = len(zip_bytes(files, deflate_level=level, deflate_everything=deflate_everything))
                best = min(best, time.perf_counter() - started)
            trials.append(CompressionTrial(name, level, deflate_everything, input_bytes, size, best))
    return trials
