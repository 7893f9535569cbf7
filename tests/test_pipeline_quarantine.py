"""Quarantine and the queue through Dagster, as `make run` and the UI run them: poison products warn
and do not fail later runs; a sync judged failed still leaves its stored changes in the queue."""

from __future__ import annotations

import dagster as dg
import pytest

from commerce_emulator import EmulatorConfig
from resources.store import refresh_queue
from tests.support.project import Project, asset_metadata


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # 3 poison products among ~78 live ones: under the 5% a first sync may fail anew.
    return EmulatorConfig(products=80, seed=5, rate=500.0, port=0)


def live_numbers(project: Project) -> list[int]:
    return [p.origin_product_no for p in project.emulator.catalog.products if p.status_type != "DELETE"]


def quarantine_check(result) -> dg.AssetCheckEvaluation:  # noqa: ANN001
    return next(e for run in result.results for e in run.get_asset_check_evaluations()
                if e.check_name == "products_quarantine")


def test_poison_products_warn_with_their_reasons_and_do_not_fail_the_next_run(project: Project):
    numbers = live_numbers(project)
    poison = numbers[:3]
    project.emulator.break_products(poison[:2], "404")
    project.emulator.break_products(poison[2:], "invalid")

    first = project.materialize()

    check = quarantine_check(first)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["quarantined_products"].value == 3
    listed = {row["origin_product_no"]: row for row in check.metadata["examples"].value}
    assert set(listed) == set(poison)
    assert listed[poison[0]]["code"] == "NOT_FOUND" and "salePrice -1" in listed[poison[2]]["reason"]
    assert str(poison[2]) in check.metadata["quarantined"].value  # the markdown table
    assert asset_metadata(first, "products")["quarantined_new"] == 3
    assert asset_metadata(first, "content_packages")["packages_built"] == len(numbers) - 3

    # The poison products change and are asked again among 5 attempts: 60% of them fail, none anew.
    project.emulator.modify(origin_product_nos=[*poison, *numbers[10:12]])
    second = project.materialize()

    assert second.success
    products = asset_metadata(second, "products")
    assert (products["quarantined_total"], products["quarantined_new"], products["new_failures"]) == (3, 0, 0)
    assert asset_metadata(second, "refresh_queue")["refresh_queue_enqueue_total"] == 2

    # Held back from the next sync: not asked, and the check still lists them.
    third = project.materialize()
    assert asset_metadata(third, "products")["skipped_quarantined"] == 3
    assert asset_metadata(third, "product_details")["detail_calls"] == 0
    assert quarantine_check(third).metadata["quarantined_products"].value == 3


def test_nothing_quarantined_passes_the_check(project: Project):
    result = project.materialize()
    check = quarantine_check(result)
    assert check.passed and check.metadata["quarantined_products"].value == 0


def test_a_sync_that_fails_its_threshold_still_enqueues_what_it_stored(project: Project):
    project.materialize()  # everything stored and built
    changed = set(live_numbers(project)[:6])
    project.emulator.modify(origin_product_nos=sorted(changed))
    project.emulator.inject("detail", "404", count=2)  # 2 of 6 fail anew: more than 5%

    failed = project.materialize(raise_on_error=False)

    assert not failed.success and len(failed.results) == 1  # the sync failed: no package run, no refresh_queue
    with project.connect() as store:
        pending = {n for (n,) in store.con.execute(
            f"SELECT origin_product_no FROM refresh_queue WHERE status = '{refresh_queue.PENDING}'").fetchall()}
        not_found = {n for (n,) in store.con.execute("SELECT origin_product_no FROM sync_errors").fetchall()}
    assert len(not_found) == 2 and not_found < changed
    assert pending == changed - not_found  # the 4 stored changes wait for packages
