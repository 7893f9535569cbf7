"""The schedule: every store synced at the cadence of CONTENT_OPS_SYNC_CRON (cron, KST; hourly by
default), a run per store. Each run lists from its store's cursor on (window.py), which takes in
the day before as long as the last sync started on it: no second schedule has to close a day."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from content_assets.environment import STORES, SYNC_CRON
from content_assets.jobs import sync_catalog_job
from content_assets.stores import sync_tags
from content_assets.sync.window import CATALOG_TIMEZONE


def _tick_time(context: dg.ScheduleEvaluationContext) -> datetime:
    return context.scheduled_execution_time or datetime.now(ZoneInfo(CATALOG_TIMEZONE))


@dg.schedule(
    cron_schedule=SYNC_CRON,
    execution_timezone=CATALOG_TIMEZONE,
    job=sync_catalog_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Syncs every store (a run each, queued one at a time per app) at the cadence in "
                "CONTENT_OPS_SYNC_CRON (default hourly, KST).",
)
def sync_stores_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    tick = _tick_time(context).isoformat()
    return [dg.RunRequest(run_key=f"sync:{key}:{tick}", partition_key=key, tags=sync_tags(key))
            for key in STORES.keys]


SCHEDULES = [sync_stores_schedule]
