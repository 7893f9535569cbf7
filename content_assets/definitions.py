"""The code location: assets, checks, jobs, schedules, sensors and resources, assembled.
Configuration comes from the environment (content_assets/environment.py)."""

from __future__ import annotations

import dagster as dg

from content_assets.check_steps import check_steps
from content_assets.environment import build_resources, run_executor
from content_assets.jobs import JOBS
from content_assets.packages.assets import content_packages
from content_assets.packages.checks import PACKAGE_CHECK_PARTS
from content_assets.packages.sensors import SENSORS
from content_assets.slo.checks import METRIC_CHECK_PARTS
from content_assets.sync.assets import catalog_sync, refresh_queue_asset
from content_assets.sync.checks import DATA_CHECK_PARTS
from content_assets.sync.schedules import SCHEDULES

ALL_ASSETS = [catalog_sync, refresh_queue_asset, content_packages]
# A step per op for the checks on what it materializes (content_assets/check_steps.py).
ALL_CHECKS = check_steps(ALL_ASSETS, [*METRIC_CHECK_PARTS, *DATA_CHECK_PARTS, *PACKAGE_CHECK_PARTS])

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=build_resources(),
    executor=run_executor(),
)
