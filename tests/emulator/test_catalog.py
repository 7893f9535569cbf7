"""The generated catalog: deterministic, realistic in its mix, and quick to build at 100,000 products."""

import time
from collections import Counter

from commerce_emulator import Catalog
from commerce_emulator.catalog import MAX_SALE_PRICE, MAX_STOCK_QUANTITY


def test_100k_products_build_in_a_few_seconds():
    started = time.perf_counter()
    catalog = Catalog(100_000, seed=3)
    elapsed = time.perf_counter() - started
    assert len(catalog.products) == 100_000
    assert elapsed < 8.0, f"building 100,000 products took {elapsed:.1f} s"


def test_same_seed_same_catalog_and_other_seed_another():
    assert Catalog(300, seed=1).products == Catalog(300, seed=1).products
    assert Catalog(300, seed=1).products != Catalog(300, seed=2).products


def test_catalog_invariants_and_mix():
    catalog = Catalog(5_000, seed=9)
    products = catalog.products
    numbers = [p.origin_product_no for p in products]
    assert numbers == sorted(set(numbers))
    gaps = {later - earlier for earlier, later in zip(numbers, numbers[1:], strict=False)}
    assert len(gaps) > 1  # not contiguous, not a fixed stride
    channel_numbers = [c.channel_product_no for p in products for c in p.channels]
    assert len(channel_numbers) == len(set(channel_numbers))
    assert catalog.get(numbers[10]) is products[10]

    for product in products:
        assert 1_000 <= product.sale_price <= MAX_SALE_PRICE and product.sale_price % 10 == 0
        assert 0 < product.discounted_price <= product.sale_price
        assert 0 <= product.stock_quantity <= MAX_STOCK_QUANTITY
        assert 1 <= product.image_count <= 10
        assert 0 <= len(product.seller_tags) <= 5
        assert product.channels[0].service_type == "STOREFARM"
        assert product.reg_date_ms <= product.modified_date_ms
        if product.status_type == "OUTOFSTOCK":
            assert product.stock_quantity == 0

    def share(count: int) -> float:
        return count / len(products)

    statuses = Counter(p.status_type for p in products)
    assert statuses.most_common(1)[0][0] == "SALE"
    assert 0.01 < share(statuses["DELETE"]) < 0.04
    assert statuses["OUTOFSTOCK"] and statuses["SUSPENSION"]
    assert 0.07 < share(sum(p.seller_management_code is None for p in products)) < 0.13
    codes = Counter(p.seller_management_code for p in products if p.seller_management_code)
    assert 0.02 < share(sum(n for n in codes.values() if n > 1)) < 0.15
    assert 0.15 < share(sum(len(p.channels) == 2 for p in products)) < 0.25
    mainstream = sum(5_000 <= p.sale_price <= 300_000 for p in products)
    assert share(mainstream) > 0.8


def test_names_are_korean_and_categories_are_paths():
    product = Catalog(50, seed=4).products[0]
    assert any("\uac00" <= char <= "\ud7a3" for char in product.name)
    assert product.category.whole_name.count(">") == 2
