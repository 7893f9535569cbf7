"""A package's post, as the blog will show it once its pictures are uploaded, rendered by headless
Chromium: every picture loads, nothing runs. The screenshot goes to test-artifacts/ for a person
to look at.

Runs wherever Debian's Chromium is installed; skips only where it is not and CI is not "true"
(in CI a missing browser is a failure, not a skip).
"""

from __future__ import annotations

from pathlib import Path

from tests.support.browser import ARTIFACTS, CHROMIUM_ARGS
from tests.support.package_catalog import Packages


def test_the_preview_of_a_post_loads_every_picture_in_chromium(built: Packages, chromium_path: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    product = max(built.live(), key=lambda p: (p.video == "ok", p.image_count))
    folder = built.package(product.origin_product_no)
    meta = built.meta(product.origin_product_no)
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "package-preview.png"
    console: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=str(chromium_path),
            args=CHROMIUM_ARGS, headless=True, viewport={"width": 960, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda message: console.append(message.text))
            page.on("dialog", lambda dialog: console.append(f"dialog: {dialog.message}"))
            page.goto((folder / "preview.html").as_uri(), wait_until="load")
            pictures = page.evaluate(
                "Array.from(document.images).map(i => ({src: i.getAttribute('src'), complete: i.complete,"
                " width: i.naturalWidth, height: i.naturalHeight}))")
            disclosure_top = page.evaluate("document.body.innerText.trim().split('\\n')[0]")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert [p["src"] for p in pictures] == meta["uploadOrder"]  # every placeholder became its picture
    assert all(p["complete"] and p["width"] > 0 for p in pictures), pictures
    assert len(pictures) == product.image_count + len(meta["keyframes"]) and meta["keyframes"]
    expected = {entry["file"]: (entry["width"], entry["height"]) for entry in meta["images"] + meta["keyframes"]}
    assert all((p["width"], p["height"]) == expected[p["src"]] for p in pictures)
    assert disclosure_top == meta["disclosure"]
    assert console == []  # no script ran, no error was logged
    assert screenshot.stat().st_size > 10_000
