"""The advertising disclosure in the post title (package_settings.title_disclosure): meta.json's
title is what is pasted, the disclosure leads it whole however long the name, the box on top of
the body stays, and changing the setting makes the packages built with the old one stale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from content_assets.packages.plan import DEFAULT_DISCLOSURE, PackageProduct
from content_assets.packages.sensors import current_package_version
from content_assets.packages.settings import PackageSettingsResource
from content_assets.packages.staleness import count_outdated, stale_packages
from tests.packages.single_build import package_builds
from tests.packages.single_build import product as numbered_product
from tests.support.crafted_store import CraftedStore

LONG_NAME = "초특가 " + "프리미엄 국내산 유기농 현미 " * 200  # a seller's 3,000-character name


def product(name: str, page_title: str | None = None) -> PackageProduct:
    return numbered_product(7, name, page_title=page_title)


@pytest.fixture
def build(tmp_path: Path) -> Iterator:
    with package_builds(tmp_path / "packages") as built:
        yield built


def test_the_title_in_meta_json_leads_with_the_disclosure_by_default(build):
    folder, meta = build(product("국산 햅쌀 10kg"), PackageSettingsResource())

    assert meta["title"] == "[광고] 국산 햅쌀 10kg"
    assert meta["titleDisclosure"] == "[광고]"
    # The box on top of the body stays: the title disclosure is in addition to it.
    assert DEFAULT_DISCLOSURE in (folder / "post.html").read_text()
    assert "<title>미리보기: [광고] 국산 햅쌀 10kg</title>" in (folder / "preview.html").read_text()


def test_without_the_title_disclosure_the_title_is_the_name_and_the_body_keeps_its_box(build):
    folder, meta = build(product("국산 햅쌀 10kg", page_title="햅쌀 특가"), PackageSettingsResource(title_disclosure=False))

    assert meta["title"] == "햅쌀 특가"  # the SEO page title, when the seller set one
    assert meta["titleDisclosure"] is None
    assert DEFAULT_DISCLOSURE in (folder / "post.html").read_text()


def test_the_disclosure_text_is_configurable(build):
    _, meta = build(product("국산 햅쌀 10kg"), PackageSettingsResource(title_disclosure_text="[협찬]"))

    assert meta["title"] == "[협찬] 국산 햅쌀 10kg"


def test_a_long_name_is_clamped_and_the_disclosure_stays_whole(build):
    _, meta = build(product(LONG_NAME), PackageSettingsResource())
    _, narrow = build(product(LONG_NAME), PackageSettingsResource(title_disclosure_text="[광고 · 제품 협찬]",
                                                                  title_name_max_chars=12))

    assert meta["title"].startswith("[광고] 초특가 프리미엄")
    assert len(meta["title"]) == len("[광고] ") + 100 and meta["title"].endswith("…")
    assert narrow["title"] == "[광고 · 제품 협찬] 초특가 프리미엄 국내…"
    assert narrow["name"] == LONG_NAME  # the whole name is still data in meta.json


def test_a_name_that_begins_with_the_disclosure_gets_it_once_and_on_one_line(build):
    _, meta = build(product("[광고]  햅쌀\n10kg"), PackageSettingsResource())

    assert meta["title"] == "[광고] 햅쌀 10kg"


def test_an_empty_title_disclosure_is_refused():
    with pytest.raises(ValueError, match="title disclosure must not be empty"):
        PackageSettingsResource(title_disclosure_text=" \u202e ").settings()


def test_changing_the_title_disclosure_makes_every_package_stale(store: CraftedStore):
    built_with = current_package_version(PackageSettingsResource())
    store.add_products(1, 10)
    store.add_packages(1, 10, template_version=built_with.templates["default"], settings_hash=built_with.settings)

    def outdated(settings: PackageSettingsResource) -> int:
        with store.resource.connect() as catalog:
            return count_outdated(catalog.con, current_package_version(settings))

    assert outdated(PackageSettingsResource()) == 0
    assert outdated(PackageSettingsResource(title_disclosure=False)) == 10
    assert outdated(PackageSettingsResource(title_disclosure_text="[협찬]")) == 10
    assert outdated(PackageSettingsResource(title_name_max_chars=60)) == 10
    # The text of a disclosure that is off is in no title: changing it rebuilds nothing.
    assert current_package_version(PackageSettingsResource(title_disclosure=False, title_disclosure_text="[협찬]")) \
        == current_package_version(PackageSettingsResource(title_disclosure=False))
    # What the package run rebuilds (the Python form of the rule) agrees with what the sensor counts.
    with store.resource.connect() as catalog:
        stale = stale_packages(catalog.con, current_package_version(PackageSettingsResource(title_disclosure=False)),
                               lambda number: ["default"], claimed=set())
    assert stale == {(number, "default") for number in range(1, 11)}
