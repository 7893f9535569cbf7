"""The gallery in headless Chromium: a seller's 3,000-character name is clamped to three lines, so
its card stays the size of the others, while the whole name stays in the card's title (and in the
package's meta.json, which the builder writes from the product, not from the gallery)."""

from __future__ import annotations

from pathlib import Path

from content_assets.packages.gallery import render_gallery
from resources.store.package_records import GalleryRow
from tests.support.browser import ARTIFACTS, CHROMIUM_ARGS

LONG_NAME = ("초특가 " + "프리미엄 국내산 유기농 " * 300)[:3000]


def row(number: int, name: str) -> GalleryRow:
    return GalleryRow(number, name, 19_900, None, None, None, None, None, None, None, None, "done", None)


def test_a_3000_character_name_is_clamped_and_its_card_keeps_the_others_size(chromium_path: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    gallery = tmp_path / "index.html"
    gallery.write_bytes(render_gallery([row(1, "짧은 이름"), row(2, LONG_NAME), row(3, "두 줄이 될 수도 있는 조금 긴 상품 이름")], []))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"), executable_path=str(chromium_path), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 960, "height": 900})
        try:
            page = browser.new_page()
            page.goto(gallery.as_uri(), wait_until="load")
            names = page.evaluate(
                "Array.from(document.querySelectorAll('p[title]')).map(p => ({title: p.title,"
                " height: p.getBoundingClientRect().height, card: p.parentElement.getBoundingClientRect().height,"
                " lineHeight: parseFloat(getComputedStyle(p).lineHeight)}))")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "gallery-long-name.png"), full_page=True)
        finally:
            browser.close()

    short, long, _ = names
    assert long["title"] == LONG_NAME
    assert long["height"] <= 3 * long["lineHeight"] + 1
    assert long["card"] <= short["card"] + 2 * long["lineHeight"] + 1
