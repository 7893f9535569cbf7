"""A partition is the products modified on one KST day (the first also holds every day before it);
a range of days syncs in one run."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from commerce_emulator import EmulatorConfig
from content_assets.jobs import SYNC_ASSETS
from content_assets.sync.partitions import FIRST_DAY, catalog_days, whole_range_tags
from content_assets.sync.assets import catalog_sync, refresh_queue_asset
from tests.support.project import Project, asset_metadata

KST = ZoneInfo("Asia/Seoul")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(products=60, seed=11, rate=1000.0, port=0)


def kst_days(project: Project) -> dict[int, str]:
    return {p.origin_product_no: datetime.fromtimestamp(p.modified_date_ms / 1000, KST).date().isoformat()
            for p in project.emulator.catalog.products}


def sync(project: Project, **partitions: object) -> dg.ExecuteInProcessResult:
    return dg.materialize([catalog_sync, refresh_queue_asset], resources=project.resources(),
                          instance=project.instance, **partitions)


def stored_numbers(project: Project) -> set[int]:
    with project.connect() as store:
        return {row[0] for row in store.con.execute("SELECT origin_product_no FROM products").fetchall()}


def test_a_partition_syncs_exactly_the_products_modified_on_that_kst_day(project: Project):
    project.emulator.modify(fraction=0.1, seed=3)
    today = datetime.now(KST).date().isoformat()

    sync(project, partition_key=today)

    assert stored_numbers(project) == {number for number, day in kst_days(project).items() if day == today}


def test_the_first_partition_holds_every_day_before_it_too(project: Project):
    first = catalog_days.get_first_partition_key()
    project.emulator.modify(fraction=0.1, seed=3)  # moved to today: no longer in the first partition
    days = kst_days(project)
    assert min(days.values()) < first < max(days.values())

    result = sync(project, partition_key=first)

    assert stored_numbers(project) == {number for number, day in days.items() if day <= first}
    assert asset_metadata(result, "product_list")["products_listed"] == sum(1 for day in days.values() if day <= first)


def test_a_range_of_days_is_one_run_that_marks_every_day_materialized(project: Project):
    keys = catalog_days.get_partition_keys()[:10]
    project.emulator.modify(fraction=0.1, seed=3)
    days = kst_days(project)

    result = sync(project, tags={"dagster/asset_partition_range_start": keys[0],
                                 "dagster/asset_partition_range_end": keys[-1]})

    assert len(project.instance.get_runs()) == 1
    assert stored_numbers(project) == {number for number, day in days.items() if day <= keys[-1]}
    for asset in SYNC_ASSETS:
        assert project.instance.get_materialized_partitions(dg.AssetKey(asset)) == set(keys), asset
    assert result.success


def test_re_running_a_partition_fetches_and_writes_nothing(project: Project):
    first = catalog_days.get_first_partition_key()
    sync(project, partition_key=first)
    before = project.emulator.stats()["requests"].get("detail", {})

    again = sync(project, partition_key=first)

    assert project.emulator.stats()["requests"].get("detail", {}) == before
    assert asset_metadata(again, "product_details")["detail_calls"] == 0
    assert asset_metadata(again, "products")["rows_written"] == 0
    assert asset_metadata(again, "refresh_queue")["refresh_queue_enqueue_total"] == 0


def test_a_product_changed_today_moves_to_todays_partition(project: Project):
    sync(project, tags=whole_range_tags())
    (changed,) = project.emulator.modify(fraction=1 / 60, seed=5)
    today = datetime.now(KST).date().isoformat()

    result = sync(project, partition_key=today)

    assert asset_metadata(result, "product_details")["detail_calls"] == 1
    assert asset_metadata(result, "refresh_queue")["refresh_queue_enqueue_total"] == 1
    with project.connect() as store:
        assert store.con.execute("SELECT origin_product_no FROM refresh_queue WHERE reason = 'changed'").fetchall() \
            == [(changed,)]


def test_the_whole_catalog_is_every_day_from_the_first_to_today():
    assert whole_range_tags() == {"dagster/asset_partition_range_start": FIRST_DAY,
                                  "dagster/asset_partition_range_end": datetime.now(KST).date().isoformat()}
