"""content-ops in a live `dagster dev` (workspace.yaml, a temporary DAGSTER_HOME with the project's
dagster.yaml, a 60-product emulator): runs launched together through the GraphQL API, as the
schedule, the sensor and a person would, and the UI in headless Chromium.

One server for both tests: starting `dagster dev` costs more than either test.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from commerce_emulator import EmulatorConfig, EmulatorServer
from content_assets.stores import sync_tags
from tests.support.browser import ARTIFACTS, CHROMIUM_ARGS, require_chromium
from tests.support.live_dagster import LiveDagster, live_dagster

ASSETS = ("product_list", "product_details", "products", "refresh_queue", "content_packages")
SYNC_ASSETS = ASSETS[:4]
STORE = {"dagster/partition": "default"}  # the one store of the suite's code location


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDagster]:
    with EmulatorServer(EmulatorConfig(products=60, seed=7, rate=1000.0, port=0)) as emulator, \
            live_dagster(tmp_path_factory.mktemp("live"), emulator) as server:
        yield server


@dataclass(frozen=True)
class Launched:
    backfill: str
    runs: set[str]


@pytest.fixture(scope="module")
def launched(live: LiveDagster) -> Launched:
    """What the schedule, the sensor and a person launch at about the same time, all wanting the
    store's DuckDB file: its sync (the schedule), a package build (the sensor), a backfill of the
    store (a person). Launched once, first thing: the backfill daemon's 30 s pass then overlaps the
    browser test, whose Materialize click is a second person's run."""
    backfill = live.launch_backfill(list(SYNC_ASSETS), "default", "default")
    runs = {live.launch_run("sync_catalog", {**STORE, **sync_tags("default")}), live.launch_run("build_packages", STORE)}
    return Launched(backfill, runs)


def _overlap(first: dict, second: dict) -> bool:
    return first["startTime"] < second["endTime"] and second["startTime"] < first["endTime"]


@pytest.mark.timeout(240)
def test_the_ui_shows_the_asset_graph_runs_a_materialization_and_shows_its_checks(
    live: LiveDagster, launched: Launched, tmp_path: Path
):
    """Clicked while the runs of `launched` are queued: the click's run waits its turn behind the store's other runs."""
    chromium = require_chromium()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    live.graphql("mutation { setNuxSeen }")  # what "Skip" on the first visit's community dialog records
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            # The assertions wait as long as the actions: expect's own default is 5 s, and on a
            # loaded 2-core machine the asset graph once took longer than that to draw.
            expect.set_options(timeout=30_000)

            page.goto(f"{live.url}/asset-groups/content_ops")
            for asset in ASSETS:
                expect(page.get_by_text(asset, exact=True).first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "asset-graph.png"))

            # Materialize content_packages from its page, as a person would.
            page.goto(f"{live.url}/assets/content_packages")
            known = {run["runId"] for run in live.runs()}
            page.get_by_role("button", name=re.compile(r"Materialize(…|\.\.\.)$")).click(timeout=60_000)
            # Upstream not materialized yet: the UI asks first; then, for a partitioned asset, which
            # store (the one there is) before it launches.
            with contextlib.suppress(PlaywrightTimeout):
                page.get_by_role("button", name="Confirm").click(timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "materialize-dialog.png"))
            with contextlib.suppress(PlaywrightTimeout):
                page.get_by_role("button", name="All", exact=True).click(timeout=10_000)
                page.get_by_role("button", name=re.compile(r"^Launch")).click(timeout=10_000)
            run_id = live.wait_for_ui_run(known, timeout=90, other_backfill=launched.backfill)
            assert live.wait_for_runs({run_id}, timeout=150)[run_id]["status"] == "SUCCESS", live.log_tail()

            page.goto(f"{live.url}/assets/content_packages?view=checks")
            expect(page.get_by_text("Checks (4)")).to_be_visible()
            # (The fourth, content_packages_queue_items_finished, shows truncated in the list.)
            for check in ("no_regression", "slo_package_build_p95", "slo_summary"):
                expect(page.get_by_text(check, exact=True).filter(visible=True).first).to_be_visible()
            expect(page.get_by_text("Succeeded").first).to_be_visible()
            page.get_by_text("slo_summary", exact=True).first.click()
            expect(page.get_by_text("Evaluation result")).to_be_visible()
            expect(page.get_by_text(re.compile(r"^(Passed|Failed)$")).filter(visible=True).first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "content-packages-checks.png"))
            # The SLO summary's markdown table opens over the page.
            page.get_by_text("[Show Markdown]").first.click()
            for header in ("SLO", "value", "threshold", "status", "trend"):
                expect(page.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
            expect(page.get_by_role("cell", name="Package build p95 (3 s; 10 s when videos were cut)")).to_be_visible()
            page.wait_for_timeout(500)  # the dialog fades in
            page.screenshot(path=str(ARTIFACTS / "slo-summary.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "ui-test-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


@pytest.mark.timeout(240)
def test_schedule_sensor_backfill_and_manual_runs_launched_together_queue_per_store_and_all_succeed(
    live: LiveDagster, launched: Launched
):
    backfill_runs = live.wait_for_backfill_runs(launched.backfill, timeout=120)
    # Every run of the session: these, the browser test's click, any a sensor started meanwhile.
    runs = live.wait_for_runs({run["runId"] for run in live.runs()}, timeout=180)

    assert launched.runs | backfill_runs <= set(runs) and len(runs) >= 3
    assert {run["status"] for run in runs.values()} == {"SUCCESS"}, live.log_tail()
    # The backfill of the store is one run of its partition.
    (backfill_run,) = backfill_runs
    tags = {tag["key"]: tag["value"] for tag in runs[backfill_run]["tags"]}
    assert tags["dagster/partition"] == "default"
    # dagster.yaml's limit of one run per store let one run at a time hold the store's file.
    ordered = sorted(runs.values(), key=lambda run: run["startTime"])
    for earlier, later in itertools.pairwise(ordered):
        assert not _overlap(earlier, later), (earlier, later)
