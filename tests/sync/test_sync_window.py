"""What a sync lists: the whole catalog the first time, then from the store's cursor (a KST day) on;
full_refresh lists everything again; a range of days re-syncs those days and leaves the cursor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from commerce_emulator import EmulatorConfig
from content_assets.stores import sync_tags
from content_assets.sync.assets import catalog_sync, refresh_queue_asset
from content_assets.sync.window import DAYS, FULL, INCREMENTAL, sync_window
from resources.store.sync_cursor import read_cursor
from tests.support.project import Project, asset_metadata

KST = ZoneInfo("Asia/Seoul")
TODAY = date(2026, 12, 4)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(products=60, seed=11, rate=1000.0, port=0)


def kst_days(project: Project) -> dict[int, date]:
    return {p.origin_product_no: datetime.fromtimestamp(p.modified_date_ms / 1000, KST).date()
            for p in project.emulator.catalog.products}


def sync(project: Project, **config: object) -> dg.ExecuteInProcessResult:
    run_config = {"ops": {"catalog_sync": {"config": config}}} if config else None
    return dg.materialize([catalog_sync, refresh_queue_asset], resources=project.resources(), instance=project.instance,
                          partition_key="default", tags=sync_tags("default"), run_config=run_config)


def stored_numbers(project: Project) -> set[int]:
    with project.connect() as store:
        return {row[0] for row in store.con.execute("SELECT origin_product_no FROM products").fetchall()}


def cursor_day(project: Project) -> date | None:
    with project.connect() as store:
        cursor = read_cursor(store.con)
    return cursor.synced_from if cursor else None


# -- the window, alone ------------------------------------------------------------------------------


def test_the_first_sync_of_a_store_lists_the_whole_catalog():
    window = sync_window(cursor=None, today=TODAY)
    assert (window.kind, window.modified_from, window.modified_to) == (FULL, None, TODAY)


def test_a_sync_after_that_lists_from_the_cursor_day_through_today():
    window = sync_window(cursor=TODAY - timedelta(days=3), today=TODAY)
    assert (window.kind, window.modified_from, window.modified_to) == (INCREMENTAL, TODAY - timedelta(days=3), TODAY)
    assert window.moves_cursor


def test_full_refresh_lists_everything_again():
    assert sync_window(cursor=TODAY, today=TODAY, full_refresh=True).kind == FULL


def test_a_range_of_days_leaves_the_cursor_where_it_is():
    window = sync_window(cursor=TODAY, today=TODAY, modified_from="2026-11-20", modified_to="2026-11-22")
    assert (window.kind, window.modified_from, window.modified_to) == (DAYS, date(2026, 11, 20), date(2026, 11, 22))
    assert not window.moves_cursor
    assert sync_window(cursor=None, today=TODAY, modified_from="2026-11-20").modified_to == TODAY


@pytest.mark.parametrize(("config", "message"), [
    ({"modified_from": "20 Nov"}, "modified_from must be a day such as 2026-12-01, not '20 Nov'"),
    ({"modified_from": "2026-11-22", "modified_to": "2026-11-20"}, "modified_from 2026-11-22 is after modified_to 2026-11-20"),
    ({"modified_to": "2026-12-05"}, "modified_to 2026-12-05 is after today (2026-12-04, KST)"),
    ({"full_refresh": True, "modified_from": "2026-11-20"}, "give either full_refresh or modified_from/modified_to"),
])
def test_days_that_make_no_sense_are_refused_in_one_line(config: dict, message: str):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        sync_window(cursor=None, today=TODAY, **config)


# -- through the sync --------------------------------------------------------------------------------


def test_the_first_sync_stores_everything_and_sets_the_cursor_to_today(project: Project):
    result = sync(project)

    assert stored_numbers(project) == set(kst_days(project))
    assert asset_metadata(result, "product_list")["sync_window"] == FULL
    assert cursor_day(project) == datetime.now(KST).date()


def test_an_incremental_sync_lists_only_from_the_cursor_day_and_fetches_only_what_changed(project: Project):
    sync(project)
    (changed,) = project.emulator.modify(fraction=1 / 60, seed=5)  # modified now: today, KST
    today = datetime.now(KST).date()

    result = sync(project)

    listed = asset_metadata(result, "product_list")
    assert listed["sync_window"] == INCREMENTAL
    assert listed["products_listed"] == sum(1 for day in kst_days(project).values() if day >= today)
    assert listed["products_listed"] < len(kst_days(project))
    assert asset_metadata(result, "product_details")["detail_calls"] == 1
    with project.connect() as store:
        assert store.con.execute("SELECT origin_product_no FROM refresh_queue WHERE reason = 'changed'").fetchall() \
            == [(changed,)]


def test_a_range_of_days_syncs_exactly_those_days_and_keeps_the_cursor(project: Project):
    days = kst_days(project)
    first, last = sorted(set(days.values()))[2], sorted(set(days.values()))[5]

    result = sync(project, modified_from=first.isoformat(), modified_to=last.isoformat())

    assert stored_numbers(project) == {number for number, day in days.items() if first <= day <= last}
    assert asset_metadata(result, "product_list")["sync_window"] == DAYS
    assert cursor_day(project) is None  # the first whole sync is still to come


def test_a_product_that_could_not_be_synced_holds_the_cursor_at_its_day(project: Project):
    days = kst_days(project)
    oldest = min(days, key=days.__getitem__)
    project.emulator.break_products([oldest], "404")

    sync(project)

    assert oldest not in stored_numbers(project)
    assert cursor_day(project) == days[oldest]
    # Listed again by every sync until it syncs (the quarantine decides when it is tried again).
    again = asset_metadata(sync(project), "product_list")
    assert (again["sync_window"], again["modified_from"]) == (INCREMENTAL, days[oldest].isoformat())
    assert again["products_listed"] == len(days)


def test_re_running_fetches_and_writes_nothing(project: Project):
    sync(project)
    before = project.emulator.stats()["requests"].get("detail", {})

    again = sync(project, full_refresh=True)

    assert project.emulator.stats()["requests"].get("detail", {}) == before
    assert asset_metadata(again, "product_details")["detail_calls"] == 0
    assert asset_metadata(again, "products")["rows_written"] == 0
    assert asset_metadata(again, "refresh_queue")["refresh_queue_enqueue_total"] == 0


def test_a_full_refresh_that_meets_an_old_unsynced_product_moves_the_cursor_back_to_its_day(project: Project):
    sync(project)
    assert cursor_day(project) == datetime.now(KST).date()
    project.emulator.modify(fraction=0.5, seed=9)  # enough good detail calls to stay under the error ratio
    days = kst_days(project)
    oldest = min(days, key=days.__getitem__)
    with project.connect() as store:  # as if its detail had never been stored
        store.con.execute("DELETE FROM product_details WHERE origin_product_no = ?", [oldest])
    project.emulator.break_products([oldest], "404")

    result = sync(project, full_refresh=True)

    assert asset_metadata(result, "product_details")["detail_errors"] == 1

    assert cursor_day(project) == days[oldest]
