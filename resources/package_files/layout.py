"""Where each store's packages live: `PACKAGES_DIR/<store>/<originProductNo>/<variant>`, with the
store's builds, staging and image cache inside its own folder (hard links and atomic renames stay
on one file system, and one store's sweep never sees another's builds). The top of PACKAGES_DIR
holds only the store folders and the page that lists them.

A packages folder made before there were many stores (`PACKAGES_DIR/<originProductNo>/...`,
`.builds` at the top) is carried into `default/` by renames, before store `default`'s first run
writes anything: the versions' links are relative, so every package stays current and nothing is
rebuilt.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from resources.commerce_api.registry import DEFAULT_STORE

BUILDS, STAGING, CACHE, INPUTS, READY = ".builds", ".staging", ".cache", ".inputs", ".ready"
# What a single-store folder held at its top, besides the product folders.
_SINGLE_STORE_ENTRIES = (BUILDS, STAGING, CACHE, INPUTS, READY, "index.html", "repeats.json", "summary.json")


def store_packages_dir(packages_dir: str | Path, store_key: str) -> Path:
    return Path(packages_dir) / store_key


def carry_single_store_folder(packages_dir: str | Path) -> int:
    """Move a single-store packages folder of old into `default/`; the entries moved (0 when there
    is nothing of old, or `default/` has builds of its own already)."""
    root = Path(packages_dir)
    target = root / DEFAULT_STORE
    if not (root / BUILDS).is_dir() or (target / BUILDS).exists():
        return 0
    target.mkdir(exist_ok=True)
    moved = 0
    for entry in sorted(os.listdir(root)):
        if (entry.isdigit() or entry in _SINGLE_STORE_ENTRIES) and not (target / entry).exists():
            os.replace(root / entry, target / entry)
            moved += 1
    return moved


T = TypeVar("T")
# What os.link raises where hard links cannot be made (another file system, one without links, too
# many links to one file): the caller copies instead.
NO_HARD_LINKS = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP})


def in_folder_made_if_missing(step: Callable[[], T], folder: Path) -> T:
    """Run `step` (which writes into `folder`); when it fails for want of the folder, make it and
    run `step` again. A run writes thousands of files into folders that nearly always exist: this
    costs no system call for them, where an up-front `mkdir(exist_ok=True)` costs one each."""
    try:
        return step()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return step()


def clear_folder(folder: Path) -> int:
    """Remove everything in `folder` (files, links and folders alike), keeping the folder; the
    entries removed (0 when it does not exist)."""
    if not folder.is_dir():
        return 0
    removed = 0
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)
        removed += 1
    return removed
