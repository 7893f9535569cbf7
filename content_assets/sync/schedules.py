"""Schedules: today's partition refreshed at a steady cadence (hourly by default), and yesterday's
closed after midnight KST so that changes made in its last hour are not missed."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from content_assets.environment import SYNC_TODAY_CRON
from content_assets.jobs import sync_catalog_job
from content_assets.sync.partitions import CATALOG_TIMEZONE, FIRST_DAY

# Cron in KST. CONTENT_OPS_SYNC_CRON="*/15 * * * *" refreshes today every 15 minutes.
# Half an hour after midnight: past the last hourly refresh of the day before, clear of the 00:00 one.
CLOSE_YESTERDAY_CRON = "30 0 * * *"


def kst_day(moment: datetime) -> str:
    """The partition key (KST calendar day) a moment falls on."""
    return moment.astimezone(ZoneInfo(CATALOG_TIMEZONE)).date().isoformat()


def _before_first_day(day: str) -> dg.SkipReason:
    return dg.SkipReason(f"{day} is before CONTENT_OPS_FIRST_DAY ({FIRST_DAY}): no such partition")


def _tick_time(context: dg.ScheduleEvaluationContext) -> datetime:
    return context.scheduled_execution_time or datetime.now(ZoneInfo(CATALOG_TIMEZONE))


@dg.schedule(
    cron_schedule=SYNC_TODAY_CRON,
    execution_timezone=CATALOG_TIMEZONE,
    job=sync_catalog_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Syncs today's partition (KST) at the cadence in CONTENT_OPS_SYNC_CRON (default hourly).",
)
def sync_today_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    tick = _tick_time(context)
    day = kst_day(tick)
    if day < FIRST_DAY:
        return _before_first_day(day)
    return dg.RunRequest(run_key=f"today:{day}:{tick.isoformat()}", partition_key=day)


@dg.schedule(
    cron_schedule=CLOSE_YESTERDAY_CRON,
    execution_timezone=CATALOG_TIMEZONE,
    job=sync_catalog_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Syncs yesterday's partition (KST) once more at 00:30, after the day is over.",
)
def close_yesterday_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    tick = _tick_time(context)
    day = kst_day(tick - timedelta(days=1))
    if day < FIRST_DAY:
        return _before_first_day(day)  # the first partition's day: it holds every day before it
    return dg.RunRequest(run_key=f"close:{day}", partition_key=day)


SCHEDULES = [sync_today_schedule, close_yesterday_schedule]
