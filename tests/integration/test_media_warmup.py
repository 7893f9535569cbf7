"""The sync readies the fetched products' pictures and video keyframes for their packages while it
waits on the rate limit, so the package build downloads and normalizes nothing."""

from __future__ import annotations

import pytest

from commerce_emulator import EmulatorConfig
from tests.conftest import Project, asset_metadata


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # 40 products hold every seller quirk, videos (playable, cut short, missing) included.
    return EmulatorConfig(products=40, seed=7, rate=1000.0, port=0)


def test_packages_after_a_warmed_sync_take_every_picture_from_the_cache(project: Project):
    run = project.materialize()

    details = asset_metadata(run, "product_details")
    packages = asset_metadata(run, "content_packages")
    assert details["media_warmed_products"] == details["details_fetched"]
    assert details["media_warm_failed_products"] == 0
    assert packages["packages_built"] == details["details_fetched"]
    assert packages["images_downloaded"] == 0
    assert packages["images_normalized"] == 0
    assert packages["images_from_cache"] > 0
    assert packages["videos_with_keyframes"] > 0


def test_without_warm_up_the_package_build_fetches_the_pictures_itself(project: Project):
    run = project.materialize(run_config={"ops": {"catalog_sync": {"config": {"warm_media": False}}}})

    assert "media_warmed_products" not in asset_metadata(run, "product_details")
    packages = asset_metadata(run, "content_packages")
    assert packages["images_downloaded"] > 0
    assert packages["images_from_cache"] < packages["images_downloaded"]
