"""The schedules pick KST days: today's partition at the cadence, yesterday's after midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from content_assets.definitions import defs
from content_assets.sync.partitions import catalog_days
from content_assets.sync.schedules import close_yesterday_schedule, sync_today_schedule

KST = ZoneInfo("Asia/Seoul")
# Days inside the partitions (the suite's first day is two weeks back: tests/conftest.py).
FIRST = date.fromisoformat(catalog_days.get_first_partition_key())
DAY = FIRST + timedelta(days=3)


def tick(schedule: dg.ScheduleDefinition, at: datetime) -> dg.RunRequest:
    context = dg.build_schedule_context(scheduled_execution_time=at, repository_def=defs.get_repository_def())
    # evaluate_tick also validates the partition key against the targeted job's partitions.
    result = schedule.evaluate_tick(context)
    assert result.skip_message is None, result.skip_message
    (request,) = result.run_requests
    return request


def test_todays_schedule_syncs_the_kst_day_even_when_utc_is_still_on_the_day_before():
    # 16:30 UTC on the day before is 01:30 on DAY in Seoul.
    request = tick(sync_today_schedule, datetime.combine(DAY - timedelta(days=1), time(16, 30), tzinfo=UTC))
    assert request.partition_key == DAY.isoformat()
    assert request.job_name is None or request.job_name == "sync_catalog"


def test_each_hourly_tick_gets_its_own_run_key_for_the_same_day():
    first = tick(sync_today_schedule, datetime.combine(DAY, time(9, 0), tzinfo=KST))
    second = tick(sync_today_schedule, datetime.combine(DAY, time(10, 0), tzinfo=KST))
    assert first.partition_key == second.partition_key == DAY.isoformat()
    assert first.run_key != second.run_key


def test_the_close_schedule_syncs_yesterday_after_midnight_kst():
    request = tick(close_yesterday_schedule, datetime.combine(DAY, time(0, 30), tzinfo=KST))
    assert request.partition_key == (DAY - timedelta(days=1)).isoformat()


def test_the_close_schedule_crosses_month_and_year_ends():
    new_year = FIRST.year + 1
    request = tick(close_yesterday_schedule, datetime(new_year, 1, 1, 0, 30, tzinfo=KST))
    assert request.partition_key == f"{new_year - 1}-12-31"


def test_schedules_run_hourly_and_after_midnight_in_kst_and_are_on_by_default():
    assert sync_today_schedule.cron_schedule == "0 * * * *"
    assert close_yesterday_schedule.cron_schedule == "30 0 * * *"
    for schedule in (sync_today_schedule, close_yesterday_schedule):
        assert schedule.execution_timezone == "Asia/Seoul"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        assert schedule.job_name == "sync_catalog"


def test_todays_partition_exists_while_the_day_is_going():
    assert catalog_days.get_last_partition_key() == datetime.now(KST).date().isoformat()


def test_no_run_is_asked_for_a_day_before_the_first_partition():
    first = datetime.fromisoformat(catalog_days.get_first_partition_key()).replace(tzinfo=KST)
    context = dg.build_schedule_context(scheduled_execution_time=first.replace(hour=0, minute=30),
                                        repository_def=defs.get_repository_def())

    result = close_yesterday_schedule.evaluate_tick(context)

    assert result.run_requests == [] or result.run_requests is None
    assert "before CONTENT_OPS_FIRST_DAY" in (result.skip_message or "")
    assert tick(close_yesterday_schedule, first.replace(hour=0, minute=30) + timedelta(days=1)).partition_key \
        == catalog_days.get_first_partition_key()
