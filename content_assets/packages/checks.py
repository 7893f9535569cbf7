"""The package run's own check: every queue item it enqueued or claimed ends the run done or failed."""

from collections.abc import Iterator

import dagster as dg

from content_assets.check_steps import CheckPart, keyed
from content_assets.stores import checked_store
from content_assets.sync.checks import examples
from resources.store import CatalogDatabase, refresh_queue

QUEUE_ITEMS_FINISHED = dg.AssetCheckSpec(
    "content_packages_queue_items_finished", asset="content_packages",
    description="Every product enqueued or claimed during the run ends it done or failed")


def _queue_items_finished(context: dg.AssetCheckExecutionContext, store: CatalogDatabase | None,
                          _selected: set[dg.AssetCheckKey]) -> Iterator[dg.AssetCheckResult]:
    assert store is not None
    yield keyed(QUEUE_ITEMS_FINISHED.key, _finished_result(context, store))


def _finished_result(context: dg.AssetCheckExecutionContext, store: CatalogDatabase) -> dg.AssetCheckResult:
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


PACKAGE_CHECK_PARTS = [CheckPart((QUEUE_ITEMS_FINISHED,), _queue_items_finished, needs_store=True)]
