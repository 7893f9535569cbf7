"""`products` turns stale in the UI when it is older than the sync schedule allows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from content_assets.definitions import defs
from content_assets.sync.freshness import SYNC_SLACK, longest_gap, products_freshness

MONDAY = datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo("Asia/Seoul")).timestamp()


def test_the_longest_gap_of_a_schedule_spans_its_quietest_stretch():
    assert longest_gap("0 * * * *", after=MONDAY) == timedelta(hours=1)
    assert longest_gap("30 0 * * *", after=MONDAY) == timedelta(days=1)
    assert longest_gap("0 9-18 * * 1-5", after=MONDAY) == timedelta(days=2, hours=15)  # Friday 18:00 to Monday 9:00


def test_products_warn_after_one_missed_sync_and_fail_after_two():
    policy = products_freshness("0 * * * *")
    assert policy.warn_window.to_timedelta() == timedelta(hours=1) + SYNC_SLACK
    assert policy.fail_window.to_timedelta() == timedelta(hours=2) + SYNC_SLACK
    spec = defs.resolve_assets_def("products").specs_by_key[dg.AssetKey("products")]
    assert spec.freshness_policy == products_freshness()
