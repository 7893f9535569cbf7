"""Writes content packages to disk atomically, and only when their content changed.

Layout under `packages_dir`:

    .builds/<no>-<variant>-<hash>/   the files of one package version, written once
    <no>/<variant> -> ../.builds/...  a symlink to the current version

A new version is written into a temporary folder, renamed into `.builds/`, and then the symlink
is replaced with `os.replace`, which is atomic: a reader sees the old package or the new one,
never half of one, and a build killed midway leaves the old package in place. Folder names come
from the product number and the variant only, never from seller-provided strings.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

DEFAULT_PACKAGES_DIR = "data/packages"
BUILDS = ".builds"
_VARIANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_FILE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\.[a-z0-9]+$")


@dataclass(frozen=True)
class PackageWrite:
    path: Path  # the stable path (the symlink) a person opens
    written: bool
    bytes_written: int
    size_bytes: int


def _check_names(origin_product_no: int, variant: str) -> None:
    if not isinstance(origin_product_no, int) or origin_product_no < 0:
        raise ValueError(f"origin_product_no must be a non-negative integer, got {origin_product_no!r}")
    if not _VARIANT.match(variant):
        raise ValueError(f"variant must match {_VARIANT.pattern}, got {variant!r}")


class PackageWriter(dg.ConfigurableResource):
    """Content-addressed, atomic package folders under `PACKAGES_DIR`."""

    packages_dir: str = DEFAULT_PACKAGES_DIR

    @property
    def root(self) -> Path:
        return Path(self.packages_dir)

    def package_path(self, origin_product_no: int, variant: str) -> Path:
        _check_names(origin_product_no, variant)
        return self.root / str(origin_product_no) / variant

    def _build_dir(self, origin_product_no: int, variant: str, content_hash: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{16,64}", content_hash):
            raise ValueError("content_hash must be a lowercase hex digest")
        return self.root / BUILDS / f"{origin_product_no}-{variant}-{content_hash[:16]}"

    def is_current(self, origin_product_no: int, variant: str, content_hash: str) -> bool:
        """True when the package on disk already is this content: nothing to write."""
        link = self.package_path(origin_product_no, variant)
        build = self._build_dir(origin_product_no, variant, content_hash)
        return link.is_symlink() and link.resolve() == build.resolve() and build.is_dir()

    def write(
        self, origin_product_no: int, variant: str, content_hash: str, files: Mapping[str, bytes]
    ) -> PackageWrite:
        link = self.package_path(origin_product_no, variant)
        build = self._build_dir(origin_product_no, variant, content_hash)
        size = sum(len(data) for data in files.values())
        if self.is_current(origin_product_no, variant, content_hash):
            return PackageWrite(link, written=False, bytes_written=0, size_bytes=size)

        for name in files:
            if not _FILE.match(name) or ".." in name:
                raise ValueError(f"package file name {name!r} is not allowed")
        builds = self.root / BUILDS
        builds.mkdir(parents=True, exist_ok=True)
        link.parent.mkdir(parents=True, exist_ok=True)

        if not build.is_dir():
            staging = builds / f".tmp-{uuid.uuid4().hex}"
            try:
                for name, data in files.items():
                    target = staging / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "wb") as handle:
                        handle.write(data)
                        handle.flush()
                        os.fsync(handle.fileno())
                os.rename(staging, build)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise

        previous = link.resolve() if link.is_symlink() else None
        temporary_link = link.parent / f".{variant}.tmp-{uuid.uuid4().hex}"
        os.symlink(os.path.relpath(build, link.parent), temporary_link)
        os.replace(temporary_link, link)
        if previous is not None and previous != build.resolve() and previous.parent == builds.resolve():
            shutil.rmtree(previous, ignore_errors=True)
        return PackageWrite(link, written=True, bytes_written=size, size_bytes=size)
