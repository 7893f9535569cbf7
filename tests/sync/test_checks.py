"""The data checks on a real DuckDB file, and that the blocking ones stop a run before packages."""

from __future__ import annotations

import dagster as dg
import pytest

from content_assets.check_steps import check_step, check_steps
from content_assets.sync.checks import (
    DATA_CHECK_PARTS,
    PRODUCTS_DATA,
    PRODUCTS_UNIQUE,
    PRODUCTS_VALID,
    QUEUE_NOT_STUCK_PART,
)
from tests.support.crafted_store import CraftedStore, evaluation, run

products_data_checks = check_step("products_data_checks", [PRODUCTS_DATA])
refresh_queue_no_stuck_items = check_step("refresh_queue_checks", [QUEUE_NOT_STUCK_PART])


def stand_in(asset: str, deps: tuple[str, ...] = ()) -> dg.AssetsDefinition:
    @dg.asset(name=asset, deps=list(deps))
    def _asset() -> None:
        return None

    return _asset


def _repeat_product(store: CraftedStore, origin_product_no: int) -> None:
    # The table's primary key makes a repeat impossible today; a view stands in for a schema without one.
    store.execute("ALTER TABLE products RENAME TO products_table")
    store.execute("CREATE VIEW products AS SELECT * FROM products_table UNION ALL "
                  f"SELECT * FROM products_table WHERE origin_product_no = {origin_product_no}")


def test_products_without_a_name_or_with_a_price_out_of_bounds_fail(instance, store: CraftedStore):
    store.add_products(1, 100)
    store.add_products(101, 1)
    store.execute("UPDATE products SET name = '  ' WHERE origin_product_no = 101")
    store.add_products(102, 1, sale_price=0)
    store.add_products(103, 1, sale_price=1_000_000_000)
    store.add_products(104, 1, sale_price=None)
    store.add_products(105, 1, sale_price=None, status="DELETE")  # deleted: no longer judged

    result = run(instance, store, stand_in("products"), products_data_checks, raise_on_error=False)

    check = evaluation(result, "products_name_and_price_valid")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["invalid_products"].value == 4
    assert [row[0] for row in check.metadata["examples"].value] == ["101", "102", "103", "104"]


def test_valid_products_pass(instance, store: CraftedStore):
    store.add_products(1, 100)
    store.add_products(101, 1, sale_price=999_999_990)
    result = run(instance, store, stand_in("products"), products_data_checks)
    assert evaluation(result, "products_name_and_price_valid").passed


def test_a_repeated_origin_product_no_fails(instance, store: CraftedStore):
    store.add_products(1, 10)
    result = run(instance, store, stand_in("products"), products_data_checks)
    assert evaluation(result, "products_origin_product_no_unique").passed

    _repeat_product(store, 7)
    result = run(instance, store, stand_in("products"), products_data_checks, raise_on_error=False)

    check = evaluation(result, "products_origin_product_no_unique")
    assert not check.passed
    assert check.metadata["examples"].value == [["7", "2"]]


def test_a_queue_item_in_progress_past_its_lease_is_stuck(instance, store: CraftedStore):
    store.add_products(1, 3)
    store.enqueue(1, 1, status="in_progress", updated_seconds_ago=60)  # a live run is on it
    fine = run(instance, store, stand_in("refresh_queue"), refresh_queue_no_stuck_items)
    assert evaluation(fine, "refresh_queue_no_stuck_items").passed

    store.enqueue(2, 2, status="in_progress", updated_seconds_ago=2 * 3600)
    stuck = run(instance, store, stand_in("refresh_queue"), refresh_queue_no_stuck_items, raise_on_error=False)

    check = evaluation(stuck, "refresh_queue_no_stuck_items")
    assert not check.passed
    assert check.metadata["stuck_items"].value == 2


@pytest.mark.parametrize("failing", ["products_name_and_price_valid", "products_origin_product_no_unique"])
def test_a_failing_blocking_check_stops_the_sync_before_the_queue_and_packages(instance, store: CraftedStore,
                                                                               failing: str):
    store.add_products(1, 5)
    if failing == "products_name_and_price_valid":
        store.add_products(6, 1, sale_price=-5)
    else:
        _repeat_product(store, 3)
    downstream = stand_in("refresh_queue", deps=("products",))
    packages = stand_in("content_packages", deps=("refresh_queue",))

    assets = [stand_in("products"), downstream, packages]
    result = run(instance, store, *assets, *check_steps(assets, DATA_CHECK_PARTS), raise_on_error=False)

    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"products"}
    assert not result.success
    # The products checks share a step; those that held are still reported as passing.
    passed = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert passed == {"products_name_and_price_valid": failing != "products_name_and_price_valid",
                      "products_origin_product_no_unique": failing != "products_origin_product_no_unique",
                      "products_quarantine": True}  # nothing is quarantined


def test_a_products_check_selected_on_its_own_runs_and_reports_alone(instance, store: CraftedStore):
    store.add_products(1, 5)
    _repeat_product(store, 3)  # would fail the uniqueness check, were it run

    result = run(instance, store, stand_in("products"), products_data_checks,
                 selection=dg.AssetSelection.checks(PRODUCTS_VALID.key))

    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == PRODUCTS_VALID.name and check.passed
    assert result.success

    alone = run(instance, store, stand_in("products"), products_data_checks, raise_on_error=False,
                selection=dg.AssetSelection.checks(PRODUCTS_UNIQUE.key))
    (check,) = alone.get_asset_check_evaluations()
    assert check.check_name == PRODUCTS_UNIQUE.name and not check.passed
