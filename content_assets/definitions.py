"""The code location: assets, checks, jobs, schedules, sensors and resources, assembled.
Configuration comes from the environment (content_assets/environment.py)."""

from __future__ import annotations

import dagster as dg

from content_assets.environment import build_resources, run_executor
from content_assets.jobs import JOBS
from content_assets.packages.assets import content_packages
from content_assets.packages.checks import PACKAGE_CHECKS
from content_assets.packages.sensors import SENSORS
from content_assets.slo.checks import METRIC_CHECKS
from content_assets.sync.assets import catalog_sync, refresh_queue_asset
from content_assets.sync.checks import DATA_CHECKS
from content_assets.sync.schedules import SCHEDULES

ALL_ASSETS = [catalog_sync, refresh_queue_asset, content_packages]
ALL_CHECKS = [*DATA_CHECKS, *PACKAGE_CHECKS, *METRIC_CHECKS]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=build_resources(),
    executor=run_executor(),
)
