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


def whole_range(partitions_def: dg.DailyPartitionsDefinition = catalog_days) -> dg.PartitionKeyRange:
    """Every partition from FIRST_DAY to today (KST): the whole catalog."""
    keys = partitions_def.get_partition_keys()
    return dg.PartitionKeyRange(keys[0], keys[-1])


def whole_range_tags(partitions_def: dg.DailyPartitionsDefinition = catalog_days) -> dict[str, str]:
    """Run tags that make one run cover the whole range (what a single-run backfill launches)."""
    keys = whole_range(partitions_def)
    return {
        "dagster/asset_partition_range_start": keys.start,
        "dagster/asset_partition_range_end": keys.end,
    }
