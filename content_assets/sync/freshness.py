"""When `products` is stale in the UI: older than the sync schedule allows. The schedule's longest
gap between two ticks (over a week: a cron such as `0 9-18 * * 1-5` has a weekend in it) plus the
minutes a sync takes warns; twice that gap fails. Dagster's daemon evaluates the policy."""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import islice

import dagster as dg
from dagster._utils.schedules import cron_string_iterator  # Dagster's own cron reader (no public one in 1.13)

from content_assets.environment import SYNC_CRON
from content_assets.sync.window import CATALOG_TIMEZONE

# A sync run's own time, beyond its tick: the schedule's run lands this long after the tick at most.
SYNC_SLACK = timedelta(minutes=15)


def longest_gap(cron: str, timezone: str = CATALOG_TIMEZONE, *, after: float | None = None) -> timedelta:
    """The longest time between two consecutive ticks of `cron` within the week after `after`."""
    ticks = cron_string_iterator(time.time() if after is None else after, cron, timezone)
    first = next(ticks)
    gaps, previous = [], first
    for tick in islice(ticks, 24 * 60 * 7):  # at most a tick a minute
        gaps.append(tick - previous)
        previous = tick
        if tick - first > timedelta(days=7):
            break
    return max(gaps)


def products_freshness(cron: str = SYNC_CRON) -> dg.FreshnessPolicy:
    gap = longest_gap(cron)
    return dg.FreshnessPolicy.time_window(fail_window=2 * gap + SYNC_SLACK, warn_window=gap + SYNC_SLACK)
