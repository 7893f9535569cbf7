"""A bad picture degrades its package, it does not fail it: the package is built without it, the rest
numbered without gaps, and meta.json says which is missing and why. The picture is tried again
after a backoff, and the package rebuilt once it answers. Pictures come from a real HTTP server on
loopback through the real client's fetch_image."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from content_assets.packages import builder as package_builder
from content_assets.packages.media.image_pool import ImagePool
from content_assets.packages.builder import PackageBuilder, PictureError
from content_assets.packages.plan import PLACEHOLDER, PackageRenderer, PackageSettings, TemplateSet
from resources.commerce_api import CommerceApiClient, RetryPolicy
from resources.commerce_api.errors import ImageTooSlowError
from resources.package_files.image_cache import RETRY_BACKOFF_SECONDS, ImageCache
from resources.package_files.writer import PackageWriter
from tests.support.bad_cdn import BadCdn, bad_cdn, good_picture, png_bomb
from tests.packages.test_builder import product

PICTURE_MAX_BYTES = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def cdn() -> Iterator[BadCdn]:
    with bad_cdn() as server:
        yield server


@pytest.fixture
def client() -> Iterator[CommerceApiClient]:
    with CommerceApiClient(base_url="http://127.0.0.1:9", client_id="id", client_secret="secret",
                           retry=RetryPolicy(max_retries=1), sleep=lambda seconds: None, timeout_seconds=5) as api:
        yield api


@pytest.fixture
def make(tmp_path: Path, client: CommerceApiClient) -> Iterator:
    """make(**options) -> (builder, cache, writer) on one packages folder, with a fake clock."""
    clock = Clock()
    with ImagePool(workers=2, in_flight=4) as pool, ThreadPoolExecutor(max_workers=4) as downloads:
        def builder(**options):
            writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
            cache = ImageCache(writer.root / ".cache", clock=clock)
            options.setdefault("picture_max_bytes", PICTURE_MAX_BYTES)
            return PackageBuilder(PackageRenderer(TemplateSet(), PackageSettings()), writer, cache,
                                  client.fetch_image, pool, downloads, **options), cache, writer
        builder.clock = clock
        yield builder


def _bad(kind: str) -> tuple[int, bytes]:
    jpeg = good_picture(2)
    buffer = io.BytesIO()
    Image.new("L", (8_000, 8_000)).save(buffer, format="PNG")  # 64 MP: past the limit, under twice it
    return {
        "404": (404, b"gone"),
        "410": (410, b"gone"),
        "500": (500, b"CDN broke"),
        "not an image": (200, b"<html>Access denied</html>"),
        "truncated": (200, jpeg[: len(jpeg) // 2]),
        "bomb": (200, png_bomb()),
        "too many pixels": (200, buffer.getvalue()),
        "oversize": (200, jpeg + b"\0" * PICTURE_MAX_BYTES),
    }[kind]


REASONS = {"404": "HTTP 404", "410": "HTTP 410", "500": "HTTP 500", "not an image": "not an image",
           "truncated": "truncated", "bomb": "decompression bomb", "too many pixels": "pixel",
           "oversize": "ImageTooLargeError"}


def _check_package(folder: Path, present_urls: list[str]) -> dict:
    """The package's files, placeholders, upload order and meta agree on the pictures present."""
    meta = json.loads((folder / "meta.json").read_text())
    found = PLACEHOLDER.findall((folder / "post.html").read_text())
    files = [f"images/{n:02d}.jpg" for n in range(1, len(present_urls) + 1)]
    assert [int(n) for n, _ in found] == list(range(1, len(found) + 1))
    assert [file for _, file in found] == meta["uploadOrder"] == files
    assert [entry["sourceUrl"] for entry in meta["images"]] == present_urls
    assert sorted(str(p.relative_to(folder)) for p in (folder / "images").iterdir()) == files
    return meta


@pytest.mark.parametrize("kind", list(REASONS))
def test_a_bad_picture_is_left_out_and_the_meta_says_which_and_why(make, cdn: BadCdn, kind: str):
    status, body = _bad(kind)
    urls = [cdn.serve("/ok/1.jpg", good_picture(1)), cdn.serve(f"/bad/{kind.replace(' ', '-')}.jpg", body, status),
            cdn.serve("/ok/3.jpg", good_picture(3))]
    builder, cache, _ = make()
    outcome = builder.build(product(1, urls), "default")

    assert outcome.write.written and len(outcome.images) == 2
    meta = _check_package(outcome.write.path, [urls[0], urls[2]])
    (missing,) = meta["missingImages"]
    assert (missing["position"], missing["sourceUrl"]) == (2, urls[1])
    assert REASONS[kind] in missing["reason"] and "\n" not in missing["reason"]
    assert cache.failure_of(urls[1]).failures == 1


def test_a_missing_representative_image_makes_the_next_one_the_first(make, cdn: BadCdn):
    urls = [cdn.url("/gone/representative.jpg"), cdn.serve("/ok/2.jpg", good_picture(2))]
    builder, _, _ = make()
    outcome = builder.build(product(2, urls), "default")
    meta = _check_package(outcome.write.path, [urls[1]])
    assert meta["missingImages"] == [{"position": 1, "sourceUrl": urls[0], "reason": "HTTP 404"}]


def test_an_unreachable_host_and_a_slow_decode_leave_their_pictures_out(make, cdn: BadCdn, monkeypatch):
    slow_source = good_picture(4)
    normalize = package_builder.normalize_image

    def slow_normalize(data, settings):
        if data == slow_source:
            import time
            time.sleep(1.0)
        return normalize(data, settings)

    monkeypatch.setattr(package_builder, "normalize_image", slow_normalize)
    urls = ["http://127.0.0.1:9/nothing-listens.jpg", cdn.serve("/ok/slow.jpg", slow_source),
            cdn.serve("/ok/5.jpg", good_picture(5))]
    builder, _, _ = make(decode_seconds=0.2)
    outcome = builder.build(product(3, urls), "default")
    meta = _check_package(outcome.write.path, [urls[2]])
    reasons = {entry["position"]: entry["reason"] for entry in meta["missingImages"]}
    assert "ConnectError" in reasons[1] and reasons[2] == "decoding took longer than 0.2 s"


def test_strict_pictures_fail_the_package_and_do_not_refetch_within_the_backoff(make, cdn: BadCdn):
    urls = [cdn.serve("/ok/1.jpg", good_picture(1)), cdn.url("/gone/strict.jpg")]
    builder, _, writer = make(strict_pictures=True)
    with pytest.raises(PictureError, match=r"picture 2 .*HTTP 404"):
        builder.build(product(4, urls), "default")
    with pytest.raises(PictureError, match="HTTP 404"):
        builder.build(product(4, urls), "default")
    assert cdn.hits["/gone/strict.jpg"] == 1
    assert not writer.package_path(4, "default").exists()


def test_a_missing_picture_is_retried_after_its_backoff_and_the_package_rebuilt_when_it_answers(make, cdn: BadCdn):
    urls = [cdn.serve("/ok/1.jpg", good_picture(1)), cdn.url("/late/2.jpg")]
    builder, cache, writer = make()
    item = product(5, urls)
    first = builder.build(item, "default")
    full_hash = builder.renderer.plan(item, "default").content_hash
    assert first.plan.content_hash != full_hash and len(first.plan.missing) == 1

    again = builder.build(item, "default")  # within the backoff: not fetched, nothing written
    assert again.unchanged and again.write.bytes_written == 0 and again.plan.content_hash == first.plan.content_hash
    assert cdn.hits["/late/2.jpg"] == 1

    make.clock.now += RETRY_BACKOFF_SECONDS[0]  # due, still failing: fetched once more, nothing written
    retried = builder.build(item, "default")
    assert retried.unchanged and cdn.hits["/late/2.jpg"] == 2
    assert cache.failure_of(urls[1]).retry_after == make.clock.now + RETRY_BACKOFF_SECONDS[1]

    cdn.serve("/late/2.jpg", good_picture(2))
    make.clock.now += RETRY_BACKOFF_SECONDS[1]
    arrived = builder.build(item, "default")
    assert arrived.write.written and arrived.plan.content_hash == full_hash and not arrived.plan.missing
    meta = _check_package(arrived.write.path, urls)
    assert meta["missingImages"] == [] and cache.failure_of(urls[1]) is None
    assert builder.build(item, "default").write.bytes_written == 0


def test_a_picture_that_drips_past_its_deadline_is_refused(client: CommerceApiClient, cdn: BadCdn):
    url = cdn.serve("/drip/slow.jpg", good_picture(6))
    with pytest.raises(ImageTooSlowError, match="within 0.3 s"):
        client.fetch_image(url, deadline_seconds=0.3)
