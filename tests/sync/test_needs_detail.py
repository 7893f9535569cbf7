"""Which listed products a sync asks a detail for, decided from the store's fetch ledger."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

from content_assets.sync.plan import products_needing_detail
from resources.commerce_api import ListedProduct, ProductDetail
from resources.store import CatalogStore, migrate
from resources.store.upsert import PAYLOAD_HASH_SQL

LISTED = ListedProduct(
    origin_product_no=1001, channel_product_no=2001, seller_management_code=None, name="상품",
    status_type="SALE", display_status="ON", sale_price=1000, discounted_price=900, stock_quantity=3,
    representative_image_url=None, seller_tags=(), category=None, brand_name=None, manufacturer_name=None,
    reg_date="2025-05-01T09:00:00.000+09:00", modified_date="2026-11-20T10:15:30.123+09:00", channel_count=1,
)


def _listed(number: int, modified: str, status: str = "SALE") -> ListedProduct:
    return dataclasses.replace(LISTED, origin_product_no=number, modified_date=modified, status_type=status)


@pytest.fixture
def store() -> CatalogStore:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Seoul'")
    migrate(con)
    return CatalogStore(con)


def _detail(number: int, content: str = "") -> ProductDetail:
    fields = {name: None for name in ProductDetail.__dataclass_fields__}
    fields.update(origin_product_no=number, name="상품", image_urls=(), seller_tags=(), detail_content=content)
    return ProductDetail(**fields)


def test_a_stored_detail_hashes_as_the_store_would_hash_its_row(store: CatalogStore) -> None:
    # The detail's text columns are hashed in Python as the row is built; the same row hashed
    # by the store from its columns must agree.
    store.write_listing([_listed(8, "2026-11-20T10:00:00.000+09:00")])
    detail = dataclasses.replace(_detail(8, "<p>국산 햅쌀 10kg, 당일 도정 🌾</p>"),
                                 image_urls=("http://img/8/1.jpg", "http://img/8/2.jpg"), page_title="햅쌀")
    store.apply_details([detail])
    stored, recomputed = store.con.execute(f"SELECT payload_hash, {PAYLOAD_HASH_SQL} FROM products").fetchone()
    assert stored == recomputed


def test_ledger_round_trip_skips_unchanged_and_fetches_changed_new_and_unparsable(store: CatalogStore) -> None:
    stored = [_listed(1, "2026-11-20T10:15:30.123+09:00"), _listed(2, "2026-11-20T10:15:30.123+09:00")]
    store.write_listing(stored)
    store.apply_details([_detail(1), _detail(2)])
    ledger = store.detail_ledger()
    assert set(ledger) == {1, 2}

    listed = [
        _listed(1, "2026-11-20T01:15:30.123+00:00"),  # the same instant, written in UTC: unchanged
        _listed(2, "2026-11-20T10:15:30.124+09:00"),  # a millisecond later: changed
        _listed(3, "2026-11-20T10:15:30.123+09:00"),  # never fetched
        _listed(4, "not a date"),  # unparsable: fetched rather than trusted
        _listed(5, "2026-11-20T10:15:30.123+09:00", status="DELETE"),  # gone: nothing to fetch
    ]
    assert products_needing_detail(listed, ledger) == [2, 3, 4]
    assert products_needing_detail(listed, ledger, refetch_all=True) == [1, 2, 3, 4]


def test_newly_deleted_product_is_merged_from_its_listing_once(store: CatalogStore) -> None:
    store.write_listing([_listed(7, "2026-11-20T10:00:00.000+09:00")])
    store.apply_details([_detail(7)])
    gone = _listed(7, "2026-11-21T10:00:00.000+09:00", status="DELETE")

    first = store.write_listing([gone])
    again = store.write_listing([gone])

    assert first.deleted_changed == (7,)
    assert first.deleted_upsert.updated == 1
    assert again.deleted_changed == ()
    status = store.con.execute("SELECT status_type FROM products WHERE origin_product_no = 7").fetchone()
    assert status == ("DELETE",)
