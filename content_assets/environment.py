"""Every environment variable the code location reads, in one place.

Read at import time, when the code location loads (reload it or restart `dagster dev` to change
them): `CONTENT_OPS_STORES` (the stores file, whose stores are the partitions) and
`CONTENT_OPS_SYNC_CRON` (the schedule), and whether each variable below is set at all decides
between it and its default. A bad stores file fails the load with one line naming the store.
Read when a run or a sensor starts, through `dg.EnvVar` (so the UI shows their names, never their
values): the API's credentials and address, the catalog (`CONTENT_DB_URL`, a Postgres database, else
the DuckDB file of `CONTENT_DB_PATH`) and the packages folder.
"""

from __future__ import annotations

import os

import dagster as dg

from content_assets.packages.settings import PackageSettingsResource
from resources.commerce_api import DEFAULT_BASE_URL, CommerceApiResource
from resources.commerce_api.registry import load_registry
from resources.package_files import DEFAULT_PACKAGES_DIR, PackageWriter
from resources.store import DEFAULT_DATABASE_PATH, CatalogDatabase, DuckDBStore, PostgresStore

# The stores (CONTENT_OPS_STORES), or the one store `default` of NAVER_COMMERCE_CLIENT_ID/_SECRET.
STORES = load_registry()
# How often (cron, KST) the schedule syncs every store.
SYNC_CRON = os.environ.get("CONTENT_OPS_SYNC_CRON", "0 * * * *")
# Where a run's steps execute: in its own process (in_process), or on Celery workers (celery:
# deploy/README.md), the package step on the queue CONTENT_OPS_MEDIA_QUEUE names if set.
EXECUTOR = os.environ.get("CONTENT_OPS_EXECUTOR", "in_process")
MEDIA_QUEUE = os.environ.get("CONTENT_OPS_MEDIA_QUEUE") or None
# The kind the UI shows on the catalog's assets: where their tables are.
CATALOG_KIND = "postgres" if os.environ.get("CONTENT_DB_URL") else "duckdb"


class ExecutorSettingError(ValueError):
    """CONTENT_OPS_EXECUTOR names no executor, or one the catalog cannot serve."""


def run_executor() -> dg.ExecutorDefinition:
    """One process per run by default: its steps share the catalog (two step processes would fight
    over a DuckDB file's lock), and a process per step costs seconds of start-up for nothing. On
    Celery, a run's steps go to the workers, which need a catalog many processes can write: Postgres."""
    if EXECUTOR == "in_process":
        return dg.in_process_executor
    if EXECUTOR != "celery":
        raise ExecutorSettingError(f"CONTENT_OPS_EXECUTOR is {EXECUTOR!r}: it must be in_process or celery")
    if not os.environ.get("CONTENT_DB_URL"):
        raise ExecutorSettingError("CONTENT_OPS_EXECUTOR=celery runs a run's steps in several processes, and a "
                                   "DuckDB catalog file has one writer: set CONTENT_DB_URL to a Postgres database")
    from dagster_celery import celery_executor

    return celery_executor.configured(
        {"broker": {"env": "CELERY_BROKER_URL"}, "backend": {"env": "CELERY_RESULT_BACKEND"}},
        name="celery_executor")


def media_step_tags() -> dict[str, str]:
    """The package step's op tags: its Celery queue (pictures and video), when one is named."""
    return {"dagster-celery/queue": MEDIA_QUEUE} if MEDIA_QUEUE else {}


def _env_or_default(name: str, default: str) -> str | dg.EnvVar:
    """An EnvVar when the variable is set (so the UI shows its name, never its value), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def _env_or_none(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def catalog_database() -> CatalogDatabase:
    """Postgres when `CONTENT_DB_URL` is set (every store in that database, a schema each), else a
    DuckDB file per store beside `CONTENT_DB_PATH`."""
    if os.environ.get("CONTENT_DB_URL"):
        return PostgresStore(url=dg.EnvVar("CONTENT_DB_URL"))
    return DuckDBStore(database_path=_env_or_default("CONTENT_DB_PATH", DEFAULT_DATABASE_PATH))


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        # Its client_id and client_secret are the `default` store's without a stores file; with
        # one, each store's app names its own variables, read when its run starts.
        "commerce_api": CommerceApiResource(
            client_id=_env_or_none("NAVER_COMMERCE_CLIENT_ID"),
            client_secret=_env_or_none("NAVER_COMMERCE_CLIENT_SECRET"),
            base_url=_env_or_default("NAVER_COMMERCE_BASE_URL", DEFAULT_BASE_URL),
        ),
        "store": catalog_database(),
        "package_writer": PackageWriter(packages_dir=_env_or_default("PACKAGES_DIR", DEFAULT_PACKAGES_DIR)),
        # What packages hold (variants, disclosure, pictures): set here, it reaches the package
        # runs, the sensors and the sync's warm-up alike (content_assets/packages/settings.py).
        "package_settings": PackageSettingsResource(),
    }
