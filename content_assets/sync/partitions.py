"""KST-day partitions of the catalog sync: a partition is the set of products whose `modifiedDate`
falls on that day in Asia/Seoul, which is what the search API's `PROD_MOD_DAY` filter selects.

The first partition also holds everything modified before it (the store's history). Set
CONTENT_OPS_FIRST_DAY to the day you start using content-ops: a whole-catalog sync is then one
run over a few partitions. Dagster records a materialization per asset and partition (about 15-25
ms each, one by one: dagster-io/dagster#31694), so a first day years back would cost minutes of
bookkeeping for days without products.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from content_assets.environment import FIRST_DAY

CATALOG_TIMEZONE = "Asia/Seoul"

catalog_days = dg.DailyPartitionsDefinition(
    start_date=FIRST_DAY,
    timezone=CATALOG_TIMEZONE,
    # Today's partition exists while the day is still going: the hourly schedule refreshes it.
    end_offset=1,
)


def days_of_range(first_key: str, last_key: str) -> tuple[date | None, date]:
    """The KST days (inclusive) partitions `first_key`..`last_key` cover; None for an open start,
    when the range begins at the first partition, which holds every earlier day too."""
    first, last = date.fromisoformat(first_key), date.fromisoformat(last_key)
    return (None if first <= date.fromisoformat(FIRST_DAY) else first), last


def modified_days(context: dg.AssetExecutionContext) -> tuple[date | None, date]:
    """The KST days a run covers: one partition, or a range in a single-run backfill."""
    keys = context.partition_key_range
    return days_of_range(keys.start, keys.end)


def whole_range_tags() -> dict[str, str]:
    """Run tags that make one run cover every partition from the first to today (KST), the whole
    catalog: what a single-run backfill of every partition launches."""
    keys = catalog_days.get_partition_keys()
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
