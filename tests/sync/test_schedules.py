"""The schedule syncs every store at the cadence, a run per store tagged with its app."""

from __future__ import annotations

from datetime import UTC, datetime, time

import dagster as dg

from content_assets.definitions import defs
from content_assets.stores import APP_TAG
from content_assets.sync.schedules import sync_stores_schedule


def tick(at: datetime) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(scheduled_execution_time=at, repository_def=defs.get_repository_def())
    # evaluate_tick also validates the partition keys against the targeted job's partitions.
    result = sync_stores_schedule.evaluate_tick(context)
    assert result.skip_message is None, result.skip_message
    return list(result.run_requests or [])


def test_a_tick_asks_for_a_run_of_every_store_tagged_with_its_app():
    (request,) = tick(datetime(2026, 12, 3, 16, 30, tzinfo=UTC))  # the suite's one store
    assert request.partition_key == "default"
    assert request.tags[APP_TAG] == "default"


def test_each_tick_gets_its_own_run_keys():
    first = tick(datetime.combine(datetime(2026, 12, 4), time(9, 0), tzinfo=UTC))
    second = tick(datetime.combine(datetime(2026, 12, 4), time(10, 0), tzinfo=UTC))
    assert {r.run_key for r in first}.isdisjoint(r.run_key for r in second)


def test_the_schedule_runs_hourly_in_kst_and_is_on_by_default():
    assert sync_stores_schedule.cron_schedule == "0 * * * *"
    assert sync_stores_schedule.execution_timezone == "Asia/Seoul"
    assert sync_stores_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert sync_stores_schedule.job_name == "sync_catalog"
