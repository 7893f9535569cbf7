"""Zips: pictures stored, text deflated at the configured level, identical input gives identical bytes,
and the compression experiment reports low/default/high."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone

from commerce_emulator.images import render_product_image
from content_assets.packages.archive import COMPRESSION_LEVELS, compression_experiment, zip_bytes

KST = timezone(timedelta(hours=9))
POST = ("<div style=\"color: #222;\">" + "<p style=\"margin: 0;\">상품 설명 문단입니다.</p>" * 200 + "</div>").encode()
FILES = {"post.html": POST, "meta.json": b'{"title": "x"}' * 50, "images/01.jpg": render_product_image(7, 1_000_000_005, 1)}


def entries(data: bytes) -> dict[str, zipfile.ZipInfo]:
    return {info.filename: info for info in zipfile.ZipFile(io.BytesIO(data)).infolist()}


def test_pictures_are_stored_and_text_is_deflated():
    found = entries(zip_bytes(FILES))
    assert found["images/01.jpg"].compress_type == zipfile.ZIP_STORED
    assert found["post.html"].compress_type == zipfile.ZIP_DEFLATED
    assert found["meta.json"].compress_type == zipfile.ZIP_DEFLATED
    assert found["post.html"].compress_size < found["post.html"].file_size / 5


def test_the_deflate_level_is_applied():
    fast = entries(zip_bytes(FILES, deflate_level=1))["post.html"].compress_size
    best = entries(zip_bytes(FILES, deflate_level=9))["post.html"].compress_size
    none = entries(zip_bytes(FILES, deflate_level=0))["post.html"].compress_size
    assert best <= fast < none


def test_identical_input_zips_to_identical_bytes_with_the_products_time():
    modified = datetime(2025, 5, 19, 15, 41, 19, tzinfo=KST)
    first = zip_bytes(FILES, modified=modified)
    assert first == zip_bytes(dict(reversed(FILES.items())), modified=modified)
    assert entries(first)["post.html"].date_time == (2025, 5, 19, 15, 41, 18)
    assert zipfile.ZipFile(io.BytesIO(first)).read("images/01.jpg") == FILES["images/01.jpg"]


def test_compression_experiment_reports_each_level_for_both_policies(tmp_path):
    package = tmp_path / "package"
    (package / "images").mkdir(parents=True)
    for name, data in FILES.items():
        (package / name).write_bytes(data)
    (package / "package.zip").write_bytes(b"not read")
    trials = compression_experiment(package, repeats=1)
    assert [(t.name, t.deflate_everything) for t in trials] == (
        [(name, False) for name in COMPRESSION_LEVELS] + [(name, True) for name in COMPRESSION_LEVELS])
    inputs = sum(len(data) for data in FILES.values())
    assert all(t.input_bytes == inputs and t.zip_bytes > 0 and t.seconds > 0 for t in trials)
    by_name = {t.name: t for t in trials if not t.deflate_everything}
    assert by_name["high"].zip_bytes <= by_name["low"].zip_bytes
    assert 0 < by_name["default"].ratio < 1
