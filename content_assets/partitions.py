"""KST-day partitions of the catalog sync: a partition is the set of products whose `modifiedDate`
falls on that day in Asia/Seoul, which is what the search API's `PROD_MOD_DAY` filter selects."""

from __future__ import annotations

import os
from datetime import date

import dagster as dg

CATALOG_TIMEZONE = "Asia/Seoul"
# The first day a product can have been modified on. The default covers the bundled emulator's
# catalog (modified in May 2025); for a real store set it to the day the store opened, since a
# product last modified before it falls in no partition.
FIRST_DAY = os.environ.get("CONTENT_OPS_FIRST_DAY", "2025-05-01")

catalog_days = dg.DailyPartitionsDefinition(
    start_date=FIRST_DAY,
    timezone=CATALOG_TIMEZONE,
    # Today's partition exists while the day is still going: the hourly schedule refreshes it.
    end_offset=1,
)


def modified_days(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The KST days (inclusive) a run covers: one partition, or a range in a single-run backfill."""
    keys = context.partition_key_range
    return date.fromisoformat(keys.start), date.fromisoformat(keys.end)


def whole_range_tags() -> dict[str, str]:
    """Run tags that make one run cover every day from FIRST_DAY to today (KST), the whole
    catalog: what a single-run backfill of every partition launches."""
    keys = catalog_days.get_partition_keys()
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
