"""A store's gallery of 10,000 packages in headless Chromium: it opens on one page of cards, the
search box and the status buttons narrow them, a card's copy button puts its post on the
clipboard as HTML (and plain text), a long title is clamped while its disclosure stays whole, and
seller names stay text.

The page is made by refresh_gallery from a crafted store: 10,000 product and package rows, each
crafted package a meta.json of its own (the title the gallery shows), and three packages built
for real (post.html, post.js, pictures) to copy from. The page's size and its time to the first
page of cards are recorded (record_property, and printed with -s); nothing asserts on time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from commerce_emulator.seller_quirks import HOSTILE_NAMES
from content_assets.packages.gallery import refresh_gallery
from content_assets.packages.plan import DEFAULT_DISCLOSURE
from resources.package_files.writer import PackageWriter
from resources.store import DuckDBStore
from tests.packages.gallery_page import gallery_cards
from tests.packages.single_build import package_builds, product
from tests.support.browser import ARTIFACTS, CHROMIUM_ARGS, require_chromium
from tests.support.crafted_store import CraftedStore

CARDS = 10_000
LONG_NAME = "초특가 " + "프리미엄 국내산 유기농 현미 " * 200
LONG_DISCLOSURE = "[유료 광고 · 제품 협찬을 받아 작성한 글]"
GREEN_TEA = range(271, CARDS, 271)  # "녹차" in their names
FAILED, NO_PACKAGE = range(5001, 5041), range(9991, 10_001)  # failed with a last good package / with none
QUARANTINED, MISSING, WAITING = range(6001, 6026), range(7001, 7051), range(8001, 8021)
HOSTILE = dict(zip(range(9001, 9001 + len(HOSTILE_NAMES)), HOSTILE_NAMES, strict=True))
REAL = {7: ("녹차 현미 블렌딩 티백 50개입", 2), 8: (LONG_NAME, 1), 9: ("보리차 티백 100개입", 1)}  # name, pictures


@dataclass(frozen=True)
class Gallery:
    root: Path
    page: Path
    refresh_seconds: float


def _craft_store(store: CraftedStore) -> None:
    store.add_products(1, CARDS)
    store.add_packages(1, NO_PACKAGE.start - 1, template_version="t", settings_hash="s")
    store.execute("UPDATE products SET name = '녹차 티백 ' || origin_product_no WHERE origin_product_no % 271 = 0")
    for number, name in {**HOSTILE, **{n: name for n, (name, _) in REAL.items()}}.items():
        store.execute("UPDATE products SET name = ? WHERE origin_product_no = ?", [name, number])
    store.execute("UPDATE packages SET image_count = 1 WHERE origin_product_no IN (7, 8)")
    for numbers, status in ((FAILED, "failed"), (NO_PACKAGE, "failed"), (WAITING, "pending")):
        store.enqueue(numbers.start, len(numbers), status=status)
    store.execute("UPDATE refresh_queue SET last_error = 'HTTP 500 from the detail API' WHERE status = 'failed'")
    store.execute("UPDATE packages SET missing_images = 1, missing_image_reasons = ? WHERE origin_product_no BETWEEN ? AND ?",
                  ['[{"position": 1, "sourceUrl": "cdn/x", "reason": "HTTP 404"}]', MISSING.start, MISSING[-1]])
    store.execute(
        """INSERT INTO sync_quarantine (origin_product_no, api, reason, failures, first_failed_at, last_failed_at,
                                        retry_after)
           SELECT i, 'detail', 'HTTP 500 three times', 3, now(), now(), now() + INTERVAL 1 HOUR FROM range(?, ?) t(i)""",
        [QUARANTINED.start, QUARANTINED.stop])


def _craft_meta(root: Path) -> None:
    """The meta.json of every crafted package (its title is all the gallery reads of it)."""
    for number in range(1, NO_PACKAGE.start):
        if number in REAL:
            continue
        name = HOSTILE.get(number) or (f"녹차 티백 {number}" if number % 271 == 0 else f"상품 {number}")
        folder = root / str(number) / "default"
        folder.mkdir(parents=True)
        (folder / "meta.json").write_text(json.dumps({"title": f"[광고] {name}", "titleDisclosure": "[광고]"}))


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Gallery:
    folder = tmp_path_factory.mktemp("gallery")
    root = folder / "packages" / "tea-house"
    writer = PackageWriter(packages_dir=str(root))
    store = CraftedStore(DuckDBStore(database_path=str(folder / "content.duckdb")))
    _craft_store(store)
    with package_builds(root) as build:
        for number, (name, pictures) in REAL.items():
            build(product(number, name, pictures=pictures))
    _craft_meta(root)
    (root / "9" / "default").unlink()  # 9: its real package gives way to one with a long disclosure
    (root / "9" / "default").mkdir()
    (root / "9" / "default" / "meta.json").write_text(
        json.dumps({"title": f"{LONG_DISCLOSURE} {'보리차 ' * 80}", "titleDisclosure": LONG_DISCLOSURE}))
    with store.resource.connect() as catalog:
        started = time.perf_counter()
        refresh_gallery(catalog.con, writer, 6, changed=True)
        seconds = time.perf_counter() - started
    return Gallery(root, root / "index.html", seconds)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True) \
            .new_context(viewport={"width": 1200, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        yield context
        context.browser.close()


@pytest.fixture
def page(browser, gallery: Gallery) -> Iterator:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(gallery.page.as_uri(), wait_until="load")
    yield page
    page.close()
    assert errors == []  # no script error, no alert from a seller's name


def visible_cards(page) -> list[dict]:
    return page.evaluate("Array.from(document.querySelectorAll('#cards .card')).map(card => ({id: card.id,"
                         " status: card.dataset.status, title: card.querySelector('.title').title}))")


def search(page, text: str) -> None:
    """Type into the search box and wait for the cards of `text` (the page keeps its search in the address)."""
    page.fill("#search", text)
    page.wait_for_function("text => new URLSearchParams(location.hash.slice(1)).get('q') === text", arg=text)


def test_a_10000_card_gallery_opens_on_one_page_of_cards_and_stays_small(page, gallery: Gallery, record_property):
    timings = page.evaluate("""() => ({
        firstRender: performance.getEntriesByName('gallery-first-render')[0].startTime,
        firstContentfulPaint: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
        load: performance.getEntriesByType('navigation')[0].loadEventEnd})""")
    size = gallery.page.stat().st_size
    record_property("gallery_10k_bytes", size)
    record_property("gallery_10k_first_render_ms", round(timings["firstRender"], 1))
    record_property("gallery_10k_refresh_seconds", round(gallery.refresh_seconds, 3))
    print(f"10,000-card gallery: {size:,} bytes, first page of cards at {timings['firstRender']:.0f} ms, "
          f"first contentful paint {timings['firstContentfulPaint'] or 0:.0f} ms, load {timings['load']:.0f} ms; "
          f"refresh_gallery {gallery.refresh_seconds:.2f} s")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gallery-10k.png"))

    cards = visible_cards(page)
    assert len(cards) == 120 and page.text_content("#shown") == "showing 120 of 10000"
    assert page.text_content('.filter[data-status=""] .count') == "10000"
    assert DEFAULT_DISCLOSURE not in gallery.page.read_text()  # no post is in the page
    assert size < 250 * CARDS  # the cards are data, not markup
    page.mouse.wheel(0, 100_000)  # scrolling to the end renders the next page
    page.wait_for_function("document.querySelectorAll('#cards .card').length === 240")


def test_searching_by_name_or_number_narrows_the_cards(page):
    search(page, "녹차")
    names = [card["title"] for card in visible_cards(page)]
    assert len(names) == len(GREEN_TEA) + 1 and all("녹차" in name for name in names)  # and real package 7

    search(page, "녹차 블렌딩")  # every word
    assert [card["id"] for card in visible_cards(page)] == ["p7-default"]

    search(page, "4321")
    assert [card["id"] for card in visible_cards(page)] == ["p4321-default"]
    assert page.text_content('.filter[data-status="ready"] .count') == "1"


@pytest.mark.parametrize(("status", "numbers"), [("failed", [*FAILED, *NO_PACKAGE]), ("quarantined", QUARANTINED),
                                                 ("missing picture", MISSING), ("waiting for a rebuild", WAITING)])
def test_a_status_button_shows_only_that_status(page, status: str, numbers):
    page.click(f'.filter[data-status="{status}"]')
    page.wait_for_function("status => document.querySelector(`.filter[data-status='${status}']`)"
                           ".getAttribute('aria-pressed') === 'true'", arg=status)
    cards = visible_cards(page)
    assert {card["status"] for card in cards} == {status}
    assert sorted(int(card["id"][1:].split("-")[0]) for card in cards) == list(numbers)
    assert page.text_content(f'.filter[data-status="{status}"] .count') == str(len(numbers))
    page.click('.filter[data-status=""]')
    assert len(visible_cards(page)) == 120


def test_the_copy_button_puts_the_post_on_the_clipboard_as_html_and_text(page, gallery: Gallery):
    package = gallery.root / "7" / "default"
    post = (package / "post.html").read_text()
    meta = json.loads((package / "meta.json").read_text())

    page.click("#p7-default button[data-copy='post']")
    page.wait_for_function("document.querySelector('#p7-default .copy-status').textContent !== 'copying…'")
    assert page.text_content("#p7-default .copy-status") == "post copied"
    copied = page.evaluate("""async () => {
        const [item] = await navigator.clipboard.read();
        return {types: item.types, html: await (await item.getType('text/html')).text(),
                text: await (await item.getType('text/plain')).text()};
    }""")
    assert set(copied["types"]) >= {"text/html", "text/plain"}
    # The editor gets the post with its inline styles (the clipboard may wrap the fragment).
    assert DEFAULT_DISCLOSURE in copied["html"] and "border-left: 4px solid #03c75a" in copied["html"]
    assert "[사진 1: images/01.jpg]" in copied["html"] and "[사진 2: images/02.jpg]" in copied["html"]
    assert post.count("style=") == copied["html"].count("style=")
    assert copied["text"].startswith(DEFAULT_DISCLOSURE) and "<" not in copied["text"]

    page.click("#p7-default button[data-copy='title']")
    page.wait_for_function("document.querySelector('#p7-default .copy-status').textContent === 'title copied'")
    assert page.evaluate("navigator.clipboard.readText()") == meta["title"] == "[광고] 녹차 현미 블렌딩 티백 50개입"


def test_a_package_without_post_js_says_the_copy_failed(page, gallery: Gallery):
    page.click("#p10-default button[data-copy='post']")  # a crafted package: meta.json only
    page.wait_for_function("document.querySelector('#p10-default .copy-status').classList.contains('failed')")
    assert page.text_content("#p10-default .copy-status") == "copy failed: 10/default/post.js could not be loaded"


def test_a_long_title_is_clamped_and_its_disclosure_stays_whole(page, gallery: Gallery):
    metas = {n: json.loads((gallery.root / str(n) / "default" / "meta.json").read_text()) for n in (8, 9)}
    shapes = page.evaluate("""numbers => numbers.map(n => {
        const card = document.getElementById(`p${n}-default`);
        const title = card.querySelector('.title'), disclosure = card.querySelector('.disclosure');
        const box = disclosure.getBoundingClientRect(), titleBox = title.getBoundingClientRect();
        return {title: title.title, titleText: title.textContent, disclosure: disclosure.textContent,
                height: titleBox.height, lineHeight: parseFloat(getComputedStyle(title).lineHeight),
                clamped: title.scrollHeight > title.clientHeight + 1,
                disclosureWhole: disclosure.scrollWidth <= disclosure.clientWidth
                                 && disclosure.scrollHeight <= disclosure.clientHeight && box.height > 0,
                disclosureAbove: box.bottom <= titleBox.top + 1,
                cardHeight: card.getBoundingClientRect().height};
    })""", [8, 9, 10])
    long_name, long_disclosure, short = shapes

    assert long_name["title"] == metas[8]["title"] and long_name["disclosure"] == "[광고]"  # the whole title on hover
    assert long_name["clamped"] and long_name["height"] <= 3 * long_name["lineHeight"] + 1
    assert long_name["disclosureWhole"] and long_name["disclosureAbove"]
    assert long_disclosure["disclosure"] == LONG_DISCLOSURE and long_disclosure["disclosureWhole"]
    assert long_disclosure["clamped"] and long_disclosure["title"] == metas[9]["title"]
    assert short["disclosure"] == "[광고]" and not short["clamped"]


def test_seller_names_stay_text(page, gallery: Gallery):
    for number, name in HOSTILE.items():
        search(page, str(number))
        card = page.query_selector(f"#p{number}-default")
        assert card.eval_on_selector(".title", "title => title.textContent") == name
        assert card.eval_on_selector(".title", "title => title.children.length") == 0
    assert page.evaluate("document.querySelectorAll('#cards iframe, #cards script, #cards img[src=\"x\"]').length") == 0
    cards = gallery_cards(gallery.root)
    assert {cards[(number, "default")]["t"] for number in HOSTILE} == {f"[광고] {name}" for name in HOSTILE_NAMES}
