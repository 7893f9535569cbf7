"""The code location: assets, resources and jobs, assembled. Configuration comes from the environment."""

from __future__ import annotations

import os

import dagster as dg

from resources.commerce_api import DEFAULT_BASE_URL, CommerceApiResource
from resources.package_writer import DEFAULT_PACKAGES_DIR, PackageWriter
from resources.store import DEFAULT_DATABASE_PATH, DuckDBStore

from .package_assets import content_packages
from .sync_assets import catalog_sync, refresh_queue_asset


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

content_ops_job = dg.define_asset_job(
    "content_ops",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    description="Sync the catalog and build packages for every new or changed product.",
)

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[content_ops_job],
    resources=build_resources(),
    # One process per run: the steps share the DuckDB file, and per-step process start-up
    # would cost seconds for nothing.
    executor=dg.in_process_executor,
)
