"""content_packages with bad pictures, end to end on a real DuckDB file: the package is built without
the picture, the `packages` record and the gallery say which and why, a rebuild within the backoff
writes nothing, and once the backoff has passed the run (and the sensor) see the package as stale
and rebuild it with the picture. Products that keep failing do not fail later runs."""

from __future__ import annotations

import json
from pathlib import Path

from content_assets.sync.checks import QUEUE_LEASE_SECONDS
from content_assets.packages.sensors import waiting_work
from tests.packages.gallery_page import gallery_cards
from tests.support.bad_cdn import bad_cdn, good_picture
from tests.support.package_catalog import Packages


def _replace_first_picture(packages: Packages, number: int, url: str) -> None:
    """The seller swapped the representative image for one at `url`; the product is queued."""
    with packages.project.connect() as store:
        store.con.execute("UPDATE products SET image_urls = list_prepend(?, image_urls[2:]) "
                          "WHERE origin_product_no = ?", [url, number])
        store.con.execute("UPDATE refresh_queue SET status = 'pending', attempts = 0 WHERE origin_product_no = ?",
                          [number])


def _let_the_backoff_pass(packages: Packages) -> None:
    """What a day's wait does: every recorded picture failure and package retry time is due."""
    for path in (packages.root / ".cache" / "failures").rglob("*.json"):
        record = json.loads(path.read_text())
        record["retryAfter"] = record["lastFailedAt"] - 1
        path.write_text(json.dumps(record))
    with packages.project.connect() as store:
        store.con.execute("UPDATE packages SET missing_retry_at = now() - INTERVAL 1 SECOND "
                          "WHERE missing_retry_at IS NOT NULL")


def _record(packages: Packages, number: int) -> tuple:
    with packages.project.connect() as store:
        return store.con.execute("SELECT image_count, missing_images, missing_image_reasons, "
                                 "missing_retry_at > now() FROM packages WHERE origin_product_no = ?",
                                 [number]).fetchone()


def _retries_due(packages: Packages) -> int:
    with packages.project.connect() as store:
        return waiting_work(store.con, max_attempts=3, lease_seconds=QUEUE_LEASE_SECONDS).retries_due


def test_a_bad_picture_degrades_the_package_until_it_answers(built: Packages):
    product = next(p for p in built.live() if p.image_count >= 2)
    number = product.origin_product_no
    with bad_cdn() as cdn:
        url = cdn.url("/late.jpg")  # 404 for now
        _replace_first_picture(built, number, url)
        metadata = built.build()
        assert metadata["packages_failed"] == 0 and metadata["packages_missing_pictures"] == 1

        meta = built.meta(number)
        assert meta["missingImages"] == [{"position": 1, "sourceUrl": url, "reason": "HTTP 404"}]
        assert len(meta["images"]) == product.image_count - 1 and meta["images"][0]["file"] == "images/01.jpg"
        image_count, missing, reasons, later = _record(built, number)
        assert (image_count, missing, later) == (product.image_count - 1, 1, True)
        assert json.loads(reasons) == meta["missingImages"]
        card = _card(built.root, number)
        assert "missing picture" in card and "picture 1 missing: HTTP 404" in card

        files = built.files()  # within the backoff: nothing fetched, nothing written
        again = built.build()
        assert again["bytes_written"] == 0 and built.files() == files and cdn.hits["/late.jpg"] == 1
        assert _retries_due(built) == 0

        cdn.serve("/late.jpg", good_picture(1))
        _let_the_backoff_pass(built)
        assert _retries_due(built) == 1
        rebuilt = built.build()
        assert (rebuilt["packages_stale"], rebuilt["packages_built"], rebuilt["pictures_missing"]) == (1, 1, 0)
    assert built.meta(number)["missingImages"] == []
    assert built.meta(number)["images"][0]["sourceUrl"] == url
    assert _record(built, number)[:2] == (product.image_count, 0)
    assert _retries_due(built) == 0 and "missing picture" not in _card(built.root, number)


def test_products_that_keep_failing_do_not_fail_later_package_runs(built: Packages):
    numbers = [p.origin_product_no for p in built.live()][:3]
    with bad_cdn() as cdn:
        for number in numbers:
            _replace_first_picture(built, number, cdn.url(f"/gone/{number}.jpg"))
        first = built.run(raise_on_error=False, strict_pictures=True, max_error_ratio=0.2)
        assert not first.success  # 3 new failures of 3 packages: an outage, as far as the run can tell
        second = built.run(strict_pictures=True, max_error_ratio=0.2)  # the same 3 fail again
    metadata = second.asset_materializations_for_node("content_packages")[0].metadata
    assert (metadata["packages_failed"].value, metadata["packages_failed_new"].value) == (3, 0)
    assert all(cdn.hits[f"/gone/{number}.jpg"] == 1 for number in numbers)  # not fetched within the backoff


def _card(root: Path, number: int) -> str:
    """The card's status and notes, as the gallery shows them."""
    card = gallery_cards(root)[(number, "default")]
    return " · ".join([card["s"], *card.get("x", [])])
