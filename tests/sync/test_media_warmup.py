"""The sync readies the fetched products' pictures and video keyframes for their packages while it
waits on the rate limit, so the package build downloads and normalizes nothing."""

from __future__ import annotations

import json

import pytest

from commerce_emulator import EmulatorConfig
from content_assets.packages.settings import PackageSettingsResource
from tests.support.project import Project, asset_metadata


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # 40 products hold every seller quirk, videos (playable, cut short, missing) included.
    return EmulatorConfig(products=40, seed=7, rate=1000.0, port=0)


WAIT_FOR_MEDIA = {"ops": {"catalog_sync": {"config": {"wait_for_media": True}}}}


def test_packages_after_a_warmed_sync_are_published_as_staged_and_recorded_in_full(project: Project):
    run = project.materialize(run_config=WAIT_FOR_MEDIA)

    details = asset_metadata(run, "product_details")
    packages = asset_metadata(run, "content_packages")
    assert details["media_warmed_products"] == details["details_fetched"]
    assert details["media_warm_failed_products"] == 0
    assert details["packages_prebuilt"] == details["details_fetched"]
    assert packages["packages_built"] == packages["packages_prebuilt"] == details["details_fetched"]
    assert packages["images_downloaded"] == 0
    assert packages["images_normalized"] == 0
    assert packages["packages_failed"] == 0
    # Published from what the sync staged, the records are as complete as a build's: one row a
    # package with its content hash, one a picture, and a video's keyframes among them.
    with project.connect() as store:
        rows = store.con.execute(
            "SELECT origin_product_no, content_hash, image_count + keyframe_count FROM packages"
        ).fetchall()
        pictures = dict(store.con.execute(
            "SELECT origin_product_no, count(*) FROM package_images GROUP BY ALL").fetchall())
        keyframes = store.con.execute("SELECT sum(keyframe_count) FROM packages").fetchone()[0]
    assert len(rows) == details["details_fetched"]
    assert keyframes > 0
    for number, content_hash, picture_count in rows:
        meta = json.loads((project.packages_dir / str(number) / "default" / "meta.json").read_text())
        assert meta["contentHash"] == content_hash
        assert pictures.get(number, 0) == picture_count
    assert not [entry for entry in (project.packages_dir / ".builds").iterdir()
                if not any(link.resolve() == entry.resolve() for link in project.packages_dir.glob("*/default"))]


def test_the_warm_up_stages_packages_with_the_package_runs_own_settings(project: Project):
    """Settings changed in the code location's `package_settings` reach the sync's warm-up: it stages
    every wanted variant with them, and the package run publishes what it staged."""
    project.package_settings = PackageSettingsResource(variants=["default", "review"], image_max_width=480,
                                                       disclosure="이 글은 광고를 포함하고 있습니다.")
    run = project.materialize(run_config=WAIT_FOR_MEDIA)

    details = asset_metadata(run, "product_details")
    packages = asset_metadata(run, "content_packages")
    assert details["packages_prebuilt"] == 2 * details["details_fetched"]
    assert packages["packages_built"] == packages["packages_prebuilt"] == 2 * details["details_fetched"]
    assert packages["images_normalized"] == 0
    number = next(p.origin_product_no for p in project.emulator.catalog.live_products() if p.image_count)
    post = (project.packages_dir / str(number) / "review" / "post.html").read_text()
    assert "이 글은 광고를 포함하고 있습니다." in post
    meta = json.loads((project.packages_dir / str(number) / "review" / "meta.json").read_text())
    assert max(image["width"] for image in meta["images"]) <= 480


def test_the_sync_does_not_wait_for_pictures_and_the_package_run_does_what_was_left_once(project: Project):
    run = project.materialize()  # the emulator answers at once: most of the warm-up is still queued

    details = asset_metadata(run, "product_details")
    packages = asset_metadata(run, "content_packages")
    left = details["media_warm_skipped_products"]  # queued work dropped when the sync ended
    assert left > 0 and details["media_warm_pending_at_end"] >= left
    assert details["media_warmed_products"] < details["details_fetched"]
    # Nothing lost: every product gets its package; nothing done twice: a package the warm-up
    # staged is published as staged, and only the others are built.
    assert packages["packages_built"] == details["details_fetched"]
    assert packages["packages_failed"] == 0
    assert packages["packages_prebuilt"] == details["packages_prebuilt"]
    with project.connect() as store:
        recorded = store.con.execute("SELECT count(*) FROM packages").fetchone()[0]
    assert recorded == details["details_fetched"]


def test_without_warm_up_the_package_build_fetches_the_pictures_itself(project: Project):
    run = project.materialize(run_config={"ops": {"catalog_sync": {"config": {"warm_media": False}}}})

    assert "media_warmed_products" not in asset_metadata(run, "product_details")
    packages = asset_metadata(run, "content_packages")
    assert packages["images_downloaded"] > 0
    assert packages["images_from_cache"] < packages["images_downloaded"]


def test_the_warm_up_reports_what_the_sync_waited_for_and_a_second_close_keeps_it():
    import threading
    import time
    from types import SimpleNamespace

    from content_assets.sync.media_warmup import MediaWarmup

    release = threading.Event()

    class SlowBuilder:
        def prepare_media(self, urls, video_url):
            release.wait(5)
            return SimpleNamespace(images_normalized=len(urls), images_cached=0, keyframe_seconds=0.0)

    warmup = MediaWarmup(SlowBuilder(), threads=1)
    for number in range(3):
        warmup.submit(SimpleNamespace(image_urls=(f"http://img/{number}.jpg",), detail_content=""))
    threading.Timer(0.2, release.set).start()
    first = warmup.close()
    assert first.pending_at_close == 3 and first.tail_seconds >= 0.15
    assert first.products_warmed == 3
    tail = first.tail_seconds
    time.sleep(0.01)
    assert warmup.close().tail_seconds == tail and warmup.close().pending_at_close == 3
