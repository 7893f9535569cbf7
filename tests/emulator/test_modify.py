"""Catalog changes made by tests: modify (by fraction or by number) and delete."""

from datetime import datetime

import pytest

from commerce_emulator import UnknownProductError
from commerce_emulator.kst import KST, iso_kst_from_ms

from tests.support.emulator_calls import SEARCH_PATH


def test_modify_fraction_changes_exactly_that_many_live_products(emulator, authed):
    before = {p.origin_product_no: p for p in emulator.catalog.products}
    live_count = len(emulator.catalog.live_products())
    modified = emulator.modify(fraction=0.1, seed=1)
    assert len(modified) == round(0.1 * live_count)
    assert modified == sorted(set(modified))

    after = {p.origin_product_no: p for p in emulator.catalog.products}
    changed = [no for no in before if before[no] != after[no]]
    assert changed == modified
    today = datetime.now(KST).date().isoformat()
    for number in modified:
        old, new = before[number], after[number]
        assert not old.is_deleted
        assert new.sale_price != old.sale_price and new.sale_price % 10 == 0
        assert new.stock_quantity != old.stock_quantity
        assert new.discounted_price <= new.sale_price
        assert iso_kst_from_ms(new.modified_date_ms).startswith(today)

    listed = authed.post(SEARCH_PATH, json={"searchKeywordType": "PRODUCT_NO", "originProductNos": modified[:3]}).json()
    for content in listed["contents"]:
        channel_product = content["channelProducts"][0]
        assert channel_product["modifiedDate"].startswith(today)
        assert channel_product["salePrice"] == after[content["originProductNo"]].sale_price


def test_modify_fraction_is_deterministic_for_a_seed(start_emulator):
    first, second = start_emulator(), start_emulator()
    assert first.modify(fraction=0.2, seed=5) == second.modify(fraction=0.2, seed=5)
    assert first.modify(fraction=0.2, seed=5) != first.modify(fraction=0.2, seed=6)


def test_modify_by_numbers_and_refusal_of_unknown_or_deleted(emulator):
    live = emulator.catalog.live_products()
    wanted = [live[3].origin_product_no, live[1].origin_product_no]
    assert emulator.modify(origin_product_nos=wanted) == sorted(wanted)
    with pytest.raises(UnknownProductError):
        emulator.modify(origin_product_nos=[123])
    deleted = next(p for p in emulator.catalog.products if p.is_deleted)
    with pytest.raises(UnknownProductError):
        emulator.modify(origin_product_nos=[deleted.origin_product_no])
    with pytest.raises(ValueError):
        emulator.modify()


def test_delete_marks_products_deleted_and_bumps_modified_date(emulator, authed):
    product = emulator.catalog.live_products()[0]
    assert emulator.delete([product.origin_product_no]) == [product.origin_product_no]
    assert emulator.delete([product.origin_product_no]) == []  # already deleted
    deleted = emulator.catalog.get(product.origin_product_no)
    assert deleted.status_type == "DELETE"
    assert deleted.modified_date_ms > product.modified_date_ms

    numbers = [c["originProductNo"] for c in authed.post(SEARCH_PATH, json={"size": 500}).json()["contents"]]
    assert product.origin_product_no not in numbers
    with pytest.raises(UnknownProductError):
        emulator.delete([7])
