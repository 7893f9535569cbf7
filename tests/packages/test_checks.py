"""The package run's check on a real DuckDB file: the queue items a run claimed end it done or failed."""

from __future__ import annotations

from typing import Any

import dagster as dg

from content_assets.check_steps import check_step
from content_assets.packages.checks import PACKAGE_CHECK_PARTS
from resources.store import refresh_queue
from tests.support.crafted_store import CraftedStore, evaluation, run

content_packages_queue_items_finished = check_step("content_packages_checks", PACKAGE_CHECK_PARTS)


def _packages_asset(finish: bool) -> dg.AssetsDefinition:
    """Claims every waiting item, like content_packages, and finishes them or not."""

    @dg.asset(name="content_packages")
    def _asset(store: dg.ResourceParam[Any]) -> None:
        with store.connect() as catalog:
            items = refresh_queue.claim(catalog.con)
            if finish:
                refresh_queue.finish(catalog.con, items, [])

    return _asset


def test_items_claimed_by_a_package_run_and_left_in_progress_fail(instance, store: CraftedStore):
    store.add_products(1, 4)
    store.enqueue(1, 4)

    result = run(instance, store, _packages_asset(finish=False), content_packages_queue_items_finished,
                 raise_on_error=False)

    check = evaluation(result, "content_packages_queue_items_finished")
    assert not check.passed
    assert check.metadata["unfinished_items"].value == 4


def test_items_finished_by_the_package_run_pass(instance, store: CraftedStore):
    store.add_products(1, 4)
    store.enqueue(1, 4)
    store.enqueue(5, 1, status="in_progress", updated_seconds_ago=600)  # claimed before this run: not its own

    result = run(instance, store, _packages_asset(finish=True), content_packages_queue_items_finished)

    assert evaluation(result, "content_packages_queue_items_finished").passed
