"""The package run's own check: every queue item it enqueued or claimed ends the run done or failed."""

import dagster as dg

from content_assets.check_steps import one_check
from content_assets.stores import checked_store
from content_assets.sync.checks import examples
from resources.store import CatalogDatabase, refresh_queue

QUEUE_ITEMS_FINISHED = dg.AssetCheckSpec(
    "content_packages_queue_items_finished", asset="content_packages",
    description="Every product enqueued or claimed during the run ends it done or failed")


def _queue_items_finished(context: dg.AssetCheckExecutionContext, store: CatalogDatabase) -> dg.AssetCheckResult:
    run = context.instance.get_run_record_by_id(context.run.run_id)
    run_start = run.start_time if run is not None and run.start_time is not None else None
    if run_start is None:
        return dg.AssetCheckResult(passed=True, description="the run has no start time to compare with")
    with checked_store(context, store).connect() as catalog:
        unfinished = catalog.con.execute(
            f"""
            SELECT origin_product_no, status FROM refresh_queue
            WHERE (status = '{refresh_queue.PENDING}' AND enqueued_at >= to_timestamp(?))
               OR (status = '{refresh_queue.IN_PROGRESS}' AND updated_at >= to_timestamp(?))
            ORDER BY origin_product_no
            """,  # noqa: S608
            [run_start, run_start],
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not unfinished,
        metadata={"unfinished_items": len(unfinished), "examples": examples(unfinished)},
    )


PACKAGE_CHECK_PARTS = [one_check(QUEUE_ITEMS_FINISHED, _queue_items_finished)]
