"""A partition is the products modified on one KST day; a range of days syncs in one run."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from commerce_emulator import EmulatorConfig
from content_assets.jobs import SYNC_ASSETS
from content_assets.partitions import whole_range_tags
from content_assets.sync_assets import catalog_sync, refresh_queue_asset
from tests.conftest import Project, asset_metadata

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
    days = kst_days(project)
    busiest_day, _ = Counter(days.values()).most_common(1)[0]

    sync(project, partition_key=busiest_day)

    assert stored_numbers(project) == {number for number, day in days.items() if day == busiest_day}


def test_a_range_of_days_is_one_run_that_marks_every_day_materialized(project: Project):
    days = kst_days(project)
    first, last = "2025-05-10", "2025-05-19"

    result = sync(project, tags={"dagster/asset_partition_range_start": first,
                                 "dagster/asset_partition_range_end": last})

    assert len(project.instance.get_runs()) == 1
    assert stored_numbers(project) == {number for number, day in days.items() if first <= day <= last}
    for asset in SYNC_ASSETS:
        materialized = project.instance.get_materialized_partitions(dg.AssetKey(asset))
        assert materialized == {f"2025-05-{day}" for day in range(10, 20)}, asset
    assert result.success


def test_re_running_a_partition_fetches_and_writes_nothing(project: Project):
    day = Counter(kst_days(project).values()).most_common(1)[0][0]
    sync(project, partition_key=day)
    before = project.emulator.stats()["requests"].get("detail", {})

    again = sync(project, partition_key=day)

    assert project.emulator.stats()["requests"].get("detail", {}) == before
    assert asset_metadata(again, "product_details")["detail_calls"] == 0
    assert asset_metadata(again, "products")["rows_written"] == 0
    assert asset_metadata(again, "refresh_queue")["refresh_queue_enqueue_total"] == 0


def test_a_product_changed_today_moves_to_todays_partition(project: Project):
    sync(project, tags={"dagster/asset_partition_range_start": "2025-05-01",
                        "dagster/asset_partition_range_end": "2025-05-31"})  # where the emulator's catalog lies
    (changed,) = project.emulator.modify(fraction=1 / 60, seed=5)
    today = datetime.now(KST).date().isoformat()

    result = sync(project, partition_key=today)

    assert asset_metadata(result, "product_details")["detail_calls"] == 1
    assert asset_metadata(result, "refresh_queue")["refresh_queue_enqueue_total"] == 1
    with project.connect() as store:
        assert store.con.execute("SELECT origin_product_no FROM refresh_queue WHERE reason = 'changed'").fetchall() \
            == [(changed,)]


def test_the_whole_catalog_is_every_day_from_the_first_to_today():
    assert whole_range_tags() == {"dagster/asset_partition_range_start": "2025-05-01",
                                  "dagster/asset_partition_range_end": datetime.now(KST).date().isoformat()}
