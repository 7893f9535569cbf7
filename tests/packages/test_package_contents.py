"""What a package holds, checked on one build of a 60-product catalog with every seller quirk:
hostile names, path-like SKUs, script-laden detail pages, phone photos with GPS, sideways and
oversized photos, pictures shared between products, playable, broken and missing videos."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from commerce_emulator.images import image_traits
from commerce_emulator.seller_quirks import HOSTILE_NAMES, HOSTILE_SELLER_CODES
from content_assets.packages.plan import DEFAULT_DISCLOSURE, PLACEHOLDER
from content_assets.packages.gallery import render_gallery
from tests.packages.gallery_page import gallery_cards
from tests.support.html_checks import active_content, tags_of
from tests.support.pictures import metadata_left

SEED = 7
FILE_NAME = re.compile(r"^(post\.html|post\.js|preview\.html|meta\.json|package\.zip|unique-pack\.zip|"
                       r"images/\d{2}\.jpg|keyframes/\d{2}\.jpg)$")


@pytest.fixture(scope="module")
def catalog(quirky_build):
    return quirky_build[0]


@pytest.fixture(scope="module")
def metadata(quirky_build):
    return quirky_build[1]


def package_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_every_live_product_gets_a_complete_package_named_by_numbers_only(catalog, metadata):
    live = catalog.live()
    assert metadata["packages_built"] == len(live) and metadata["packages_failed"] == 0
    for product in live:
        folder = catalog.package(product.origin_product_no)
        files = package_files(folder)
        assert all(FILE_NAME.match(name) for name in files), files
        assert {"post.html", "preview.html", "meta.json", "package.zip", "unique-pack.zip"} <= set(files)
        assert sum(name.startswith("images/") for name in files) == product.image_count
    top = {entry.name for entry in catalog.root.iterdir()}
    assert top == {str(p.origin_product_no) for p in live} | {"index.html", "summary.json", "repeats.json",
                                                               ".builds", ".staging", ".cache", ".inputs"}


def test_hostile_names_and_detail_pages_come_out_inert(catalog):
    hostile = [p for p in catalog.live() if p.name in HOSTILE_NAMES or p.hostile_detail]
    assert any(p.name in HOSTILE_NAMES for p in hostile) and any(p.hostile_detail for p in hostile)
    for product in hostile:
        folder = catalog.package(product.origin_product_no)
        post = (folder / "post.html").read_text()
        assert active_content(post) == [], product.origin_product_no
        assert active_content((folder / "preview.html").read_text(), document=True) == []
        assert "evil.example" not in post and "document.cookie" not in post
        if product.name in HOSTILE_NAMES:  # shown as text, escaped, and still data in meta.json
            assert "&lt;" in post or "{{ 7*7 }}" in post
            assert catalog.meta(product.origin_product_no)["name"] == product.name
    # The gallery has a script, a stylesheet and a search box of its own; seller data adds nothing.
    gallery = (catalog.root / "index.html").read_text()
    assert active_content(gallery, document=True) == active_content(render_gallery([], []).decode(), document=True)
    assert tags_of(gallery) == tags_of(render_gallery([], []).decode())


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        if data.strip():
            self.texts.append(data.strip())


def test_posts_have_inline_styles_only_and_the_disclosure_first(catalog):
    for product in catalog.live():
        post = (catalog.package(product.origin_product_no) / "post.html").read_text()
        parsed = _Text()
        parsed.feed(post)
        assert post.startswith("<div style=")
        assert not {"style", "script", "link", "head", "body"} & set(parsed.tags)
        assert parsed.texts[0] == DEFAULT_DISCLOSURE


def test_placeholders_are_in_upload_order_and_match_the_meta(catalog):
    for product in catalog.live():
        post = (catalog.package(product.origin_product_no) / "post.html").read_text()
        meta = catalog.meta(product.origin_product_no)
        found = PLACEHOLDER.findall(post)
        assert [int(n) for n, _ in found] == list(range(1, len(found) + 1))
        assert [file for _, file in found] == meta["uploadOrder"]
        assert meta["uploadOrder"] == [i["file"] for i in meta["images"]] + [k["file"] for k in meta["keyframes"]]


def _all_output_jpegs(root: Path):
    for path in (root / ".builds").rglob("*"):
        if path.suffix == ".jpg":
            yield str(path), path.read_bytes()
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    if name.endswith(".jpg"):
                        yield f"{path}!{name}", archive.read(name)


def test_no_output_picture_keeps_exif_gps_or_comments(catalog):
    checked = 0
    for where, data in _all_output_jpegs(catalog.root):
        assert metadata_left(data) == [], where
        checked += 1
    assert checked > 3 * 250  # every picture, three times: the folder, package.zip, unique-pack.zip


def test_pictures_are_upright_and_no_wider_than_the_maximum(catalog):
    rotated = large = 0
    for product in catalog.live():
        meta = catalog.meta(product.origin_product_no)
        for entry in meta["images"]:
            number = int(entry["file"][7:9])
            traits = image_traits(SEED, product.origin_product_no, number)
            image = Image.open(catalog.package(product.origin_product_no) / entry["file"])
            assert image.size == (entry["width"], entry["height"])
            assert image.width <= 860
            if traits.rotated:  # stored 480x640 with orientation 6: upright it is landscape
                assert image.size == (640, 480)
                rotated += 1
            if traits.size[0] > 860:
                assert image.width == 860
                large += 1
    assert rotated and large


def test_path_like_seller_codes_never_become_paths(catalog):
    tricky = [p for p in catalog.live() if p.seller_management_code in HOSTILE_SELLER_CODES]
    assert len(tricky) >= 2
    for product in tricky:
        assert catalog.meta(product.origin_product_no)["sellerManagementCode"] == product.seller_management_code
        assert (catalog.package(product.origin_product_no) / "post.html").is_file()
    base = catalog.root.parent
    root = os.path.realpath(catalog.root)
    for folder, _, names in os.walk(base):
        for name in names + [os.path.basename(folder)]:
            assert name not in ("x", "passwd", "id_rsa", "olute", "c") and "%2e" not in name
        if folder.startswith(str(catalog.root)):
            assert os.path.realpath(folder).startswith(root)


def test_a_video_product_gets_keyframes(catalog, metadata):
    with_video = [p for p in catalog.live() if p.video == "ok"]
    assert with_video
    for product in with_video:
        meta = catalog.meta(product.origin_product_no)
        assert meta["video"]["status"] == "ok" and meta["video"]["keyframes"] == 3
        assert [k["file"] for k in meta["keyframes"]] == ["keyframes/01.jpg", "keyframes/02.jpg", "keyframes/03.jpg"]
        times = [k["timeSeconds"] for k in meta["keyframes"]]
        assert times == sorted(times) and len(set(times)) == 3
        for entry in meta["keyframes"]:
            assert (catalog.package(product.origin_product_no) / entry["file"]).is_file()
    assert metadata["videos_with_keyframes"] == len(with_video)
    assert metadata["keyframe_extract_seconds"] > 0


def test_a_broken_or_missing_video_is_recorded_and_the_post_is_built_without_it(catalog, metadata):
    for status in ("broken", "missing"):
        products = [p for p in catalog.live() if p.video == status]
        assert products, status
        for product in products:
            meta = catalog.meta(product.origin_product_no)
            assert meta["video"]["status"] == status and meta["video"]["error"]
            assert meta["keyframes"] == [] and not (catalog.package(product.origin_product_no) / "keyframes").exists()
            assert "영상 장면" not in (catalog.package(product.origin_product_no) / "post.html").read_text()
    assert metadata["videos_broken"] == sum(p.video == "broken" for p in catalog.live())
    assert metadata["videos_missing"] == sum(p.video == "missing" for p in catalog.live())
    with catalog.project.connect() as store:
        recorded = dict(store.con.execute(
            "SELECT video_status, count(*) FROM packages WHERE video_status IS NOT NULL GROUP BY 1").fetchall())
    assert recorded == {s: sum(p.video == s for p in catalog.live()) for s in ("ok", "broken", "missing")}


def test_the_packages_table_records_every_package_and_its_pictures(catalog, metadata):
    with catalog.project.connect() as store:
        rows = store.con.execute(
            "SELECT origin_product_no, template_name, template_version, settings_hash, image_count, keyframe_count "
            "FROM packages").fetchall()
        pictures = store.con.execute("SELECT count(*) FROM package_images").fetchone()[0]
    assert len(rows) == len(catalog.live())
    assert {row[1:4] for row in rows} == {("default.html.j2", metadata["template_version"], metadata["settings_hash"])}
    images = {p.origin_product_no: p.image_count for p in catalog.live()}
    assert all(row[4] == images[row[0]] for row in rows)
    assert pictures == sum(row[4] + row[5] for row in rows)


def test_run_metadata_reports_timings_sizes_and_counts(metadata):
    for key in ("image_hash_seconds", "image_copy_seconds", "keyframe_extract_seconds", "zip_seconds",
                "image_download_seconds", "image_normalize_seconds", "package_build_p50_seconds",
                "package_build_p95_seconds"):
        assert metadata[key] > 0, key
    assert metadata["package_size_bytes"] > metadata["package_size_p50_bytes"] > 0
    assert metadata["bytes_written"] > 0 and metadata["packages_unchanged"] == 0


def test_a_picture_shared_by_products_is_downloaded_per_url_but_normalized_once(catalog, metadata):
    sources = set()
    urls = 0
    for product in catalog.live():
        for entry in catalog.meta(product.origin_product_no)["images"]:
            sources.add(entry["sourceSha256"])
            urls += 1
    assert urls > len(sources)  # the emulator reuses some pictures byte for byte
    assert metadata["images_downloaded"] == urls
    assert metadata["images_normalized"] == len(sources)


def test_repeated_pictures_across_packages_are_reported(catalog, metadata):
    shared: dict[str, set[tuple[int, str]]] = {}
    for product in catalog.live():
        for number in range(1, product.image_count + 1):
            picture = image_traits(SEED, product.origin_product_no, number).picture
            shared.setdefault(picture, set()).add((product.origin_product_no, f"images/{number:02d}.jpg"))
    expected = {key for uses in shared.values() if len({no for no, _ in uses}) > 1 for key in uses}
    assert expected
    text = (catalog.root / "repeats.json").read_text()
    report = json.loads(text)
    assert len(text.splitlines()) == len(report["pictures"]) + 5  # a picture a line, to read and to diff
    reported = {(entry["originProductNo"], entry["file"]) for entry in report["pictures"]}
    assert expected <= reported
    assert metadata["repeated_pictures"] == len(report["pictures"])


def test_the_gallery_has_a_card_for_every_package_with_its_title_picture_and_status(catalog):
    cards = gallery_cards(catalog.root)
    for product in catalog.live():
        number = product.origin_product_no
        card = cards[(number, "default")]
        meta = catalog.meta(number)
        assert card["s"] == "ready" and card["i"] == 1
        assert (card["t"], card["d"]) == (meta["title"], meta["titleDisclosure"])  # what is pasted
        if product.video in ("broken", "missing"):
            assert f"video {product.video}" in card.get("x", [])
        folder = catalog.root / str(number) / "default"
        for file in ("preview.html", "post.html", "meta.json", "package.zip", "images/01.jpg", "post.js"):
            assert (folder / file).exists(), (number, file)  # what the page's links and buttons open
    assert len(cards) == len(catalog.live())


def test_the_zips_store_pictures_deflate_text_and_hold_each_picture_once(catalog):
    product = next(p for p in catalog.live() if p.video == "ok")
    folder = catalog.package(product.origin_product_no)
    meta = catalog.meta(product.origin_product_no)
    with zipfile.ZipFile(folder / "package.zip") as archive:
        entries = {info.filename: info for info in archive.infolist()}
        assert set(entries) == set(package_files(folder)) - {"package.zip", "unique-pack.zip", "post.js"}
        assert all(info.compress_type == zipfile.ZIP_STORED for name, info in entries.items() if name.endswith(".jpg"))
        assert entries["post.html"].compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("images/01.jpg") == (folder / "images/01.jpg").read_bytes()
    with zipfile.ZipFile(folder / "unique-pack.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert [p["file"] for p in manifest["pictures"]] == meta["uploadOrder"]
        distinct = {p["sha256"] for p in manifest["pictures"]}
        assert len(archive.namelist()) == len(distinct) + 1
        for picture in manifest["pictures"]:
            stored = picture["sameAs"] or picture["file"]
            assert Image.open(io.BytesIO(archive.read(stored))).size == (picture["width"], picture["height"])
