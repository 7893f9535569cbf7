"""The image cache: entries are whole or absent, a torn record is a miss, names are digests only."""

from __future__ import annotations

from pathlib import Path

import pytest

from resources.package_files.image_cache import ImageCache, ImageInfo

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


def test_a_torn_record_or_a_missing_picture_is_a_cache_miss(tmp_path: Path):
    cache = ImageCache(tmp_path)
    stored = cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO)
    record = stored.path.with_suffix(".json")
    record.write_bytes(record.read_bytes()[:10])  # what a power cut can leave of an unsynced file
    assert cache.normalized(SOURCE, KEY) is None
    cache.store_normalized(SOURCE, 1234, KEY, b"jpeg", INFO)
    stored.path.unlink()
    assert cache.normalized(SOURCE, KEY) is None


def test_keyframes_are_stored_as_one_entry(tmp_path: Path):
    cache = ImageCache(tmp_path)
    frames = [(b"one", INFO, 0.0), (b"two", INFO, 2.0)]
    stored = cache.store_keyframes(SOURCE, KEY, 3, frames)
    assert [k.path.read_bytes() for k in stored] == [b"one", b"two"]
    assert [k.time_seconds for k in cache.keyframes(SOURCE, KEY, 3)] == [0.0, 2.0]
    assert cache.keyframes(SOURCE, KEY, 4) is None
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("digest", ["../../etc", "AB" * 32, "", "g" * 64])
def test_only_lowercase_hex_digests_name_cache_files(tmp_path: Path, digest: str):
    with pytest.raises(ValueError):
        ImageCache(tmp_path).store_normalized(digest, 1, KEY, b"x", INFO)
