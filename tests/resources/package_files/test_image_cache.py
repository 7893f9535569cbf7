"""The image cache: entries are whole or absent, a torn record is a miss, names are digests only, a
picture is two new files, and a cache of the earlier layout still reads."""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import pytest

from resources.package_files.image_cache import (
    CachedImage,
    ImageCache,
    ImageInfo,
    SourceRecord,
)

SOURCE, KEY = "ab" * 32, "0123456789ab"
INFO = ImageInfo(sha256="cd" * 32, phash="f0f0f0f0f0f0f0f0", width=640, height=480, size_bytes=4)


def test_a_stored_picture_is_found_by_source_hash_and_its_url_by_url(tmp_path: Path):
    cache = ImageCache(tmp_path)
    cache.remember_source("https://cdn.example/a.jpg", SOURCE, 1234)
    stored = cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO)
    assert cache.source_of("https://cdn.example/a.jpg").sha256 == SOURCE
    assert cache.source_of("https://cdn.example/b.jpg") is None
    found = cache.normalized(SOURCE, KEY)
    assert found == stored and found.path.read_bytes() == b"jpeg" and found.info == INFO
    assert cache.normalized(SOURCE, "ffffffffffff") is None
    assert cache.bytes_written > len(b"jpeg")


def test_a_picture_stored_with_its_url_is_two_new_files_and_found_by_url_and_by_content(tmp_path: Path):
    cache = ImageCache(tmp_path)
    url = "https://cdn.example/a.jpg"
    stored = cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO, url=url)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == 3 and len({p.stat().st_ino for p in files}) == 2  # the JPEG, one record by two names
    assert cache.image_of(url, KEY) == stored == cache.normalized(SOURCE, KEY)
    assert cache.source_of(url) == SourceRecord(SOURCE, 1234)
    assert cache.image_of(url, "ffffffffffff") is None and cache.image_of("https://cdn.example/b.jpg", KEY) is None
    assert [p for p in (tmp_path / "tmp").rglob("*") if not p.is_dir()] == []  # nothing half-written left


def test_a_url_keeps_its_images_for_other_settings_and_a_second_url_of_the_content_notes_it(tmp_path: Path):
    cache = ImageCache(tmp_path)
    other_key, other_info = "ba9876543210", ImageInfo("ef" * 32, "0f0f0f0f0f0f0f0f", 320, 240, 3)
    first = cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO, url="https://cdn.example/a.jpg")
    smaller = cache.store_normalized(SOURCE, 1234, other_key, b"jpg", other_info, url="https://cdn.example/a.jpg")
    assert cache.image_of("https://cdn.example/a.jpg", KEY) == first
    assert cache.image_of("https://cdn.example/a.jpg", other_key) == smaller
    assert cache.normalized(SOURCE, KEY) == first  # its record by content was the URL's record of then

    cache.remember_image("https://cdn.example/b.jpg", KEY, first)
    assert cache.image_of("https://cdn.example/b.jpg", KEY) == first


def test_a_cache_written_before_urls_noted_their_images_is_read_as_before(tmp_path: Path):
    """The layout of old: the URL's record names the content only; the image's own record (by
    content) holds its hashes and the source's size."""
    url = "https://cdn.example/a.jpg"
    folder = tmp_path / "images" / SOURCE[:2]
    folder.mkdir(parents=True)
    (folder / f"{SOURCE}-{KEY}.jpg").write_bytes(b"jpeg")
    (folder / f"{SOURCE}-{KEY}.json").write_text(json.dumps({
        "sha256": INFO.sha256, "phash": INFO.phash, "width": INFO.width, "height": INFO.height,
        "sizeBytes": INFO.size_bytes, "sourceSizeBytes": 1234}))
    digest = hashlib.sha256(url.encode()).hexdigest()
    (tmp_path / "urls" / digest[:2]).mkdir(parents=True)
    (tmp_path / "urls" / digest[:2] / f"{digest}.json").write_text(
        json.dumps({"url": url, "sha256": SOURCE, "sizeBytes": 1234}))
    cache = ImageCache(tmp_path)
    expected = CachedImage(folder / f"{SOURCE}-{KEY}.jpg", INFO, SOURCE, 1234)
    assert cache.image_of(url, KEY) == expected == cache.normalized(SOURCE, KEY)


def test_a_torn_record_or_a_missing_picture_is_a_cache_miss(tmp_path: Path):
    cache = ImageCache(tmp_path)
    stored = cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO)
    record = stored.path.with_suffix(".json")
    record.write_bytes(record.read_bytes()[:10])  # what a power cut can leave of an unsynced file
    assert cache.normalized(SOURCE, KEY) is None
    cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO)
    stored.path.unlink()
    assert cache.normalized(SOURCE, KEY) is None

    url = "https://cdn.example/a.jpg"
    cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO, url=url)
    record.write_bytes(record.read_bytes()[:10])  # the URL's record too: one file, two names
    assert cache.image_of(url, KEY) is None and cache.normalized(SOURCE, KEY) is None


def test_keyframes_are_stored_as_one_entry(tmp_path: Path):
    cache = ImageCache(tmp_path)
    frames = [(b"one", INFO, 0.0), (b"two", INFO, 2.0)]
    stored = cache.store_keyframes(SOURCE, KEY, 3, frames)
    assert [k.path.read_bytes() for k in stored] == [b"one", b"two"]
    assert [k.time_seconds for k in cache.keyframes(SOURCE, KEY, 3)] == [0.0, 2.0]
    assert cache.keyframes(SOURCE, KEY, 4) is None
    assert [p for p in (tmp_path / "tmp").rglob("*") if not p.is_dir()] == []  # nothing half-written left


@pytest.mark.parametrize("digest", ["../../etc", "AB" * 32, "", "g" * 64])
def test_only_lowercase_hex_digests_name_cache_files(tmp_path: Path, digest: str):
    with pytest.raises(ValueError):
        ImageCache(tmp_path).store_normalized(digest, 1, KEY, b"x", INFO)


def test_where_the_file_system_has_no_hard_links_the_record_by_content_is_a_copy(tmp_path: Path, monkeypatch):
    def no_links(source, target):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr("resources.package_files.image_cache.os.link", no_links)
    cache = ImageCache(tmp_path)
    stored = cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO, url="https://cdn.example/a.jpg")
    assert cache.normalized(SOURCE, KEY) == stored == cache.image_of("https://cdn.example/a.jpg", KEY)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len({p.stat().st_ino for p in files}) == 3  # the JPEG and two records
