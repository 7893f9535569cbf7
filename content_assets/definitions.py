"""The code location: assets, checks, jobs, schedules, sensors and resources, assembled.
Configuration comes from the environment."""

from __future__ import annotations

import os

import dagster as dg

from resources.commerce_api import DEFAULT_BASE_URL, CommerceApiResource
from resources.package_files.writer import DEFAULT_PACKAGES_DIR, PackageWriter
from resources.store import DEFAULT_DATABASE_PATH, DuckDBStore

from content_assets.slo.checks import METRIC_CHECKS
from content_assets.sync.checks import DATA_CHECKS
from content_assets.jobs import JOBS
from content_assets.packages.assets import content_packages
from content_assets.sync.schedules import SCHEDULES
from content_assets.packages.sensors import SENSORS
from content_assets.sync.assets import catalog_sync, refresh_queue_asset


def _env_or_default(name: str, default: str) -> str | dg.EnvVar:
    """An EnvVar when the variable is set (so the UI shows its name, never its value), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "commerce_api": CommerceApiResource(
            client_id=dg.EnvVar("NAVER_COMMERCE_CLIENT_ID"),
            client_secret=dg.EnvVar("NAVER_COMMERCE_CLIENT_SECRET"),
            base_url=_env_or_default("NAVER_COMMERCE_BASE_URL", DEFAULT_BASE_URL),
        ),
        "store": DuckDBStore(database_path=_env_or_default("CONTENT_DB_PATH", DEFAULT_DATABASE_PATH)),
        "package_writer": PackageWriter(packages_dir=_env_or_default("PACKAGES_DIR", DEFAULT_PACKAGES_DIR)),
    }


ALL_ASSETS = [catalog_sync, refresh_queue_asset, content_packages]
ALL_CHECKS = [*DATA_CHECKS, *METRIC_CHECKS]

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=build_resources(),
    # One process per run: the steps share the DuckDB file (two step processes would fight over
    # its lock), and a process per step costs seconds of start-up for nothing.
    executor=dg.in_process_executor,
)
