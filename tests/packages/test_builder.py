"""The package builder without Dagster or HTTP: pictures in flight stay bounded, failures give their
slots back, and a picture behind two URLs is normalized once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from commerce_emulator.images import render_product_image
from content_assets.packages.batch import _Batch
from content_assets.packages.media.image_pool import ImagePool
from content_assets.packages.builder import PackageBuilder, PictureError
from content_assets.packages.plan import PackageProduct, PackageRenderer, PackageSettings, TemplateSet
from resources.package_files.image_cache import ImageCache
from resources.package_files.writer import PackageWriter

KST = timezone(timedelta(hours=9))


def product(number: int, urls: list[str]) -> PackageProduct:
    return PackageProduct(
        origin_product_no=number, channel_product_no=None, seller_management_code=None, name=f"상품 {number}",
        status_type="SALE", sale_price=10_000, discounted_price=9_000, stock_quantity=3,
        modified_date=datetime(2025, 5, 1, 12, tzinfo=KST), category="생활>수납>바구니", brand_name=None,
        manufacturer_name=None, model_name=None, seller_tags=["수납"], image_urls=urls, detail_content="<p>설명</p>",
        page_title=None, meta_description=None, payload_hash="h",
    )


class CountingCache(ImageCache):
    """Counts pictures between the start of their download and their arrival in the cache."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.lock = threading.Lock()
        self.in_flight = self.peak = 0

    def started(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def store_normalized(self, *args, **kwargs):
        stored = super().store_normalized(*args, **kwargs)
        with self.lock:
            self.in_flight -= 1
        return stored


@pytest.fixture
def downloads() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def make_builder(tmp_path: Path, pool: ImagePool, downloads: ThreadPoolExecutor, fetch, cache: ImageCache | None = None,
                 **options):
    writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
    renderer = PackageRenderer(TemplateSet(), PackageSettings())
    return PackageBuilder(renderer, writer, cache or writer.image_cache(), fetch, pool, downloads, **options)


def test_pictures_in_flight_never_exceed_the_bound_and_nothing_deadlocks(tmp_path: Path, downloads):
    cache = CountingCache(tmp_path / "packages" / ".cache")

    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        cache.started()
        number, image = (int(part) for part in url.rsplit("/", 2)[-2:])
        return render_product_image(11, number, image)

    with ImagePool(workers=1, in_flight=3) as pool:
        builder = make_builder(tmp_path, pool, downloads, fetch, cache)
        products = [product(n, [f"cdn/{n}/{i}" for i in range(1, 11)]) for n in range(1, 7)]
        with ThreadPoolExecutor(max_workers=4) as threads:
            outcomes = list(threads.map(lambda p: builder.build(p, "default"), products))
        assert pool.slots._value == 3  # every slot given back
    assert all(o.write.written and len(o.images) == 10 for o in outcomes)
    assert 1 <= cache.peak <= 3
    assert cache.in_flight == 0


def test_with_strict_pictures_a_failed_download_fails_the_package_and_gives_its_slots_back(tmp_path: Path, downloads):
    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        if url.endswith("/4"):
            raise OSError(f"CDN refused {url}")
        return render_product_image(11, 1, int(url.rsplit("/", 1)[1]))

    with ImagePool(workers=1, in_flight=2) as pool:
        builder = make_builder(tmp_path, pool, downloads, fetch, strict_pictures=True)
        with pytest.raises(PictureError, match="CDN refused"):
            builder.build(product(5, [f"cdn/5/{i}" for i in range(1, 8)]), "default")
        assert pool.slots._value == 2
        assert not (tmp_path / "packages" / "5").exists()


def test_the_same_picture_behind_two_urls_is_normalized_once(tmp_path: Path, downloads):
    picture = render_product_image(11, 1, 1)
    with ImagePool(workers=1, in_flight=4) as pool:
        builder = make_builder(tmp_path, pool, downloads, lambda url, max_bytes=None: picture)
        first = builder.build(product(1, ["cdn/a.jpg"]), "default")
        second = builder.build(product(2, ["cdn/b.jpg"]), "default")
        third = builder.build(product(3, ["cdn/a.jpg"]), "default")
    assert first.timings.images_normalized == 1
    assert (second.timings.images_downloaded, second.timings.images_normalized) == (1, 0)
    assert (third.timings.images_downloaded, third.timings.images_cached) == (0, 1)  # URL known: not fetched
    assert first.images[0].path == second.images[0].path == third.images[0].path


def test_a_host_that_keeps_refusing_connections_is_given_up_for_the_run(tmp_path: Path, downloads):
    """Strict, so that each build says which error its picture met."""
    import httpx

    from content_assets.packages.builder import UNREACHABLE_AFTER, UnreachableHostError

    calls: list[str] = []

    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        calls.append(url)
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with ImagePool(workers=1, in_flight=1) as pool:
        builder = make_builder(tmp_path, pool, downloads, fetch, strict_pictures=True)
        errors = []
        for number in range(1, 8):
            try:
                builder.build(product(number, [f"http://cdn.example/{number}.jpg"]), "default")
            except PictureError as exc:
                errors.append(type(exc.__cause__))
    assert len(calls) == UNREACHABLE_AFTER
    assert errors == [httpx.ConnectError] * UNREACHABLE_AFTER + [UnreachableHostError] * (7 - UNREACHABLE_AFTER)


def test_a_prebuilt_package_is_published_with_the_same_files_and_records_as_a_build(tmp_path: Path, downloads):
    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        return render_product_image(11, 1, int(url.rsplit("/", 1)[1]))

    item = product(7, [f"cdn/7/{i}" for i in range(1, 5)])
    with ImagePool(workers=1, in_flight=4) as pool:
        built = make_builder(tmp_path / "built", pool, downloads, fetch).build(item, "default")
        builder = make_builder(tmp_path / "prebuilt", pool, downloads, fetch)
        assert builder.prebuild(item, "default") is True
        assert not (tmp_path / "prebuilt" / "packages" / "7").exists()  # staged, not published
        assert builder.prebuild(item, "default") is False  # already staged: nothing to do
        published = builder.build(item, "default")

    assert published.prebuilt and not built.prebuilt
    assert published.plan.content_hash == built.plan.content_hash
    assert published.write.size_bytes == built.write.size_bytes
    assert [(i.info, i.source_sha256) for i in published.images] == [(i.info, i.source_sha256) for i in built.images]
    for name in ("post.html", "preview.html", "meta.json", "package.zip", "unique-pack.zip", "images/04.jpg"):
        assert (published.write.path / name).read_bytes() == (built.write.path / name).read_bytes(), name


class CountingRenderer(PackageRenderer):
    """Counts full plans (each renders the post)."""

    plans = 0

    def plan(self, product, variant="default"):
        self.plans += 1
        return super().plan(product, variant)


def test_a_staged_or_unchanged_package_is_found_by_its_inputs_without_rendering(tmp_path: Path, downloads):
    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        return render_product_image(11, 1, int(url.rsplit("/", 1)[1]))

    item = product(8, [f"cdn/8/{i}" for i in range(1, 4)])
    writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
    renderer = CountingRenderer(TemplateSet(), PackageSettings())
    with ImagePool(workers=1, in_flight=4) as pool:
        builder = PackageBuilder(renderer, writer, writer.image_cache(), fetch, pool, downloads)
        assert builder.prebuild(item, "default") is True
        assert renderer.plans == 1
        published = builder.build(item, "default")
        assert (renderer.plans, published.prebuilt, published.write.written) == (1, True, True)
        again = builder.build(item, "default")
        assert (renderer.plans, again.unchanged) == (1, True)
        assert published.plan.content_hash == again.plan.content_hash == renderer.plan(item).content_hash

        renderer.plans = 0
        repriced = builder.build(replace(item, sale_price=12_000, payload_hash="h2"), "default")
        assert renderer.plans == 1 and repriced.write.written and not repriced.prebuilt
        other = PackageRenderer(TemplateSet(), PackageSettings(disclosure="다른 문구 (경제적 이해관계 표시)"))
        assert other.inputs_key(item) != renderer.inputs_key(item)


def test_a_picture_failed_since_staging_is_not_taken_from_the_staged_version(tmp_path: Path, downloads):
    """The note of a plan's inputs gives its full content hash; which pictures are waiting for a
    retry is looked up again, so a picture that failed since is left out, as a render would."""
    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        return render_product_image(11, 1, int(url.rsplit("/", 1)[1]))

    item = product(9, [f"cdn/9/{i}" for i in range(1, 4)])
    writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
    renderer = CountingRenderer(TemplateSet(), PackageSettings())
    cache = writer.image_cache()
    with ImagePool(workers=1, in_flight=4) as pool:
        builder = PackageBuilder(renderer, writer, cache, fetch, pool, downloads)
        assert builder.prebuild(item, "default") is True
        cache.record_failure("cdn/9/2", "HTTP 404")
        for path in (cache.root / "urls").rglob("*.json"):  # as if it had never been fetched
            path.unlink()
        outcome = builder.build(item, "default")
    assert [m.position for m in outcome.plan.missing] == [2]
    assert not outcome.prebuilt and renderer.plans == 2
    meta = json.loads((outcome.write.path / "meta.json").read_text())
    assert [m["position"] for m in meta["missingImages"]] == [2] and len(meta["images"]) == 2


def test_a_torn_or_foreign_inputs_note_is_no_note(tmp_path: Path, downloads):
    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        return render_product_image(11, 1, int(url.rsplit("/", 1)[1]))

    item = product(10, ["cdn/10/1"])
    writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
    renderer = CountingRenderer(TemplateSet(), PackageSettings())
    with ImagePool(workers=1, in_flight=4) as pool:
        builder = PackageBuilder(renderer, writer, writer.image_cache(), fetch, pool, downloads)
        first = builder.build(item, "default")
        note = writer.root / ".inputs" / "10-default.json"
        assert json.loads(note.read_text())["contentHash"] == first.plan.content_hash
        for text in ('{"inputs": "', json.dumps({"inputs": "other", "contentHash": first.plan.content_hash})):
            note.write_text(text)
            renderer.plans = 0
            assert builder.build(item, "default").unchanged and renderer.plans == 1


class ThreadNotingBuilder(PackageBuilder):
    """Notes the thread each package was published or built on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.published_on: dict[int, str] = {}
        self.built_on: dict[int, str] = {}

    def publish_on_disk(self, product, variant, started):
        outcome, inputs = super().publish_on_disk(product, variant, started)
        if outcome is not None:
            self.published_on[product.origin_product_no] = threading.current_thread().name
        return outcome, inputs

    def build_anew(self, product, variant, inputs, started):
        self.built_on[product.origin_product_no] = threading.current_thread().name
        return super().build_anew(product, variant, inputs, started)


class QuietLog:
    def info(self, message: str) -> None: ...
    warning = error = info


def test_a_batch_publishes_versions_on_disk_on_its_own_thread_and_builds_the_rest_on_package_threads(
        tmp_path: Path, downloads):
    # Publishing a staged version is Python and a few file operations: one thread does it faster
    # than several taking turns with the interpreter, so only packages to build go to the threads.
    def fetch(url: str, max_bytes: int | None = None) -> bytes:
        return render_product_image(11, 1, int(url.rsplit("/", 1)[1]))

    items = {number: product(number, [f"cdn/{number}/{i}" for i in range(1, 3)]) for number in (31, 32, 33, 34)}
    writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
    with ImagePool(workers=1, in_flight=4) as pool:
        builder = ThreadNotingBuilder(PackageRenderer(TemplateSet(), PackageSettings()), writer,
                                      writer.image_cache(), fetch, pool, downloads)
        for number in (31, 33):
            assert builder.prebuild(items[number], "default")
        batch = _Batch(QuietLog(), builder, items, writer.root)
        batch.run([(number, "default") for number in items], threads=2)

    assert batch.failures == {}
    assert [outcome.plan.origin_product_no for outcome in batch.outcomes] == [31, 32, 33, 34]  # in job order
    assert [outcome.prebuilt for outcome in batch.outcomes] == [True, False, True, False]
    assert set(builder.published_on.values()) == {threading.current_thread().name}
    assert sorted(builder.built_on) == [32, 34]
    assert all(name.startswith("package") for name in builder.built_on.values())
    for number in items:
        assert writer.read_file(number, "default", "post.html")
