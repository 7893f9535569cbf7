"""The sync quarantine on both backends: backoff, what it holds back, who leaves it, the catalog view."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from content_assets.sync.plan import products_needing_detail
from resources.commerce_api import ListedProduct, ProductDetail
from resources.store import CatalogStore, DetailLedger, QuarantineFailure
from resources.store.quarantine import retry_delay

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
FAILED_AT = "2026-11-20T10:15:30.123+09:00"
FAILED_AT_US = int((datetime.fromisoformat(FAILED_AT) - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))

LISTED = ListedProduct(
    origin_product_no=1, channel_product_no=2001, seller_management_code=None, name="목록 이름",
    status_type="SALE", display_status="ON", sale_price=1000, discounted_price=900, stock_quantity=3,
    representative_image_url="http://img/1/rep.jpg", seller_tags=("태그",), category=None, brand_name=None,
    manufacturer_name=None, reg_date="2025-05-01T09:00:00.000+09:00", modified_date=FAILED_AT, channel_count=1,
)


def _listed(number: int, modified: str = FAILED_AT, status: str = "SALE") -> ListedProduct:
    return dataclasses.replace(LISTED, origin_product_no=number, modified_date=modified, status_type=status)


def _detail(number: int) -> ProductDetail:
    fields = {name: None for name in ProductDetail.__dataclass_fields__}
    fields.update(origin_product_no=number, name="상세 이름", image_urls=("http://img/d.jpg",), seller_tags=(),
                  detail_content="<p>상세</p>")
    return ProductDetail(**fields)


def _not_found(number: int) -> QuarantineFailure:
    return QuarantineFailure(number, "detail", 404, "NOT_FOUND", f"originProductNo {number}: HTTP 404 NOT_FOUND")


@pytest.fixture
def store(catalog_db) -> CatalogStore:
    with catalog_db.connect() as catalog:
        yield catalog


def _row(store: CatalogStore, number: int) -> tuple | None:
    return store.con.execute(
        "SELECT epoch_us(modified_date), api, failures, first_failed_at, last_failed_at, retry_after "
        "FROM sync_quarantine WHERE origin_product_no = ?", [number]).fetchone()


def test_the_backoff_is_an_hour_six_hours_a_day_then_daily():
    assert [retry_delay(n) for n in (1, 2, 3, 4, 9)] == [
        timedelta(hours=1), timedelta(hours=6), timedelta(hours=24), timedelta(hours=24), timedelta(hours=24)]


def test_a_failure_is_held_at_its_modified_date_until_its_backoff_passes(store: CatalogStore):
    store.write_listing([_listed(1)])
    assert store.record_quarantine([_not_found(1)], hold=True, now=NOW) == 1

    modified_us, api, failures, first, last, retry_after = _row(store, 1)
    assert (modified_us, api, failures) == (FAILED_AT_US, "detail", 1)
    assert first == last == NOW and retry_after == NOW + timedelta(hours=1)

    held = store.quarantine_ledger(NOW + timedelta(minutes=59))
    assert held.holds(1, FAILED_AT_US)
    assert not held.holds(1, FAILED_AT_US + 1)  # the seller changed it: fetched again
    assert products_needing_detail([_listed(1)], DetailLedger(), quarantine=held) == []
    assert products_needing_detail([_listed(1, "2026-11-21T09:00:00.000+09:00")], DetailLedger(), quarantine=held) == [1]
    assert products_needing_detail([_listed(1)], DetailLedger(), quarantine=held, refetch_all=True) == [1]

    due = store.quarantine_ledger(NOW + timedelta(hours=1, seconds=1))
    assert not due.holds(1, FAILED_AT_US) and due.known == {1}
    assert products_needing_detail([_listed(1)], DetailLedger(), quarantine=due) == [1]


def test_failing_again_counts_once_more_and_backs_off_longer(store: CatalogStore):
    store.write_listing([_listed(1)])
    store.record_quarantine([_not_found(1)], hold=True, now=NOW)
    later = NOW + timedelta(hours=2)

    assert store.record_quarantine([_not_found(1)], hold=True, now=later) == 0  # not new

    _, _, failures, first, last, retry_after = _row(store, 1)
    assert failures == 2 and first == NOW and last == later
    assert retry_after == later + timedelta(hours=6)


def test_a_failed_run_records_without_holding_back(store: CatalogStore):
    store.write_listing([_listed(1)])
    store.record_quarantine([_not_found(1)], hold=False, now=NOW)
    ledger = store.quarantine_ledger(NOW + timedelta(seconds=1))
    assert ledger.known == {1} and not ledger.holds(1, FAILED_AT_US)


def test_a_fetched_detail_or_a_deletion_releases_a_product(store: CatalogStore):
    store.write_listing([_listed(1), _listed(2), _listed(3)])
    store.record_quarantine([_not_found(1), _not_found(2), _not_found(3)], hold=True, now=NOW)

    store.apply_details([_detail(1)])
    store.write_listing([_listed(2, status="DELETE")])
    store.write_listing([_listed(3)])  # listed again, still live: stays

    assert [n for (n,) in store.con.execute("SELECT origin_product_no FROM sync_quarantine").fetchall()] == [3]


def test_a_malformed_listing_entry_leaves_once_it_is_listed_whole(store: CatalogStore):
    entry = QuarantineFailure(4, "search", None, "MALFORMED_ENTRY", "salePrice is not a number")
    store.record_quarantine([entry], hold=True, now=NOW)
    assert _row(store, 4)[:2] == (None, "search")  # no modifiedDate to trust

    store.write_listing([_listed(4)])

    assert _row(store, 4) is None


def test_the_catalog_view_shows_quarantined_products_from_their_listing_flagged(store: CatalogStore):
    store.write_listing([_listed(1), _listed(2), _listed(3)])
    store.apply_details([_detail(1), _detail(2)])
    store.write_listing([_listed(2, "2026-11-21T09:00:00.000+09:00")])  # changed, then its detail 404s
    store.record_quarantine([_not_found(2), _not_found(3)], hold=True, now=NOW)

    rows = store.con.execute(
        "SELECT origin_product_no, detail_status, name, image_urls, detail_content, quarantine_reason IS NOT NULL "
        "FROM catalog_products ORDER BY 1").fetchall()

    assert rows == [
        (1, "synced", "상세 이름", ["http://img/d.jpg"], "<p>상세</p>", False),
        (2, "quarantined", "상세 이름", ["http://img/d.jpg"], "<p>상세</p>", True),  # its older detail kept
        (3, "listing_only", "목록 이름", ["http://img/1/rep.jpg"], None, True),
    ]
    # products holds what packages are built from: only products with a detail.
    assert store.count("products") == 2
