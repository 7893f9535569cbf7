"""The project configured against an emulator, as the tests drive it: its own catalog (a DuckDB file,
or a Postgres database), packages folder and Dagster instance (SQLite, in a temporary DAGSTER_HOME),
materialized as `make run` does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorServer


@dataclass
class Project:
    """The project configured against one emulator, with its own DuckDB file, packages and instance."""

    emulator: EmulatorServer
    database_path: Path  # the `default` store's DuckDB file (CONTENT_DB_PATH)
    packages_dir: Path  # the `default` store's packages: PACKAGES_DIR/default
    dagster_home: Path
    instance: dg.DagsterInstance
    # Package settings other than the code location's, for every run (None: its own).
    package_settings: dg.ConfigurableResource | None = None

    def resources(self) -> dict[str, dg.ConfigurableResource]:
        from content_assets.environment import build_resources

        resources = build_resources()
        if self.package_settings is not None:
            resources["package_settings"] = self.package_settings
        return resources

    @property
    def packages_root(self) -> Path:
        """PACKAGES_DIR: the store folders and the page listing them."""
        return self.packages_dir.parent

    def materialize(self, *, raise_on_error: bool = True, run_config: dict | None = None,
                    store: str = "default") -> ProjectRun:
        """Sync the store (from its cursor on: the whole catalog the first time), then build its
        packages, as `make run` does; the package run only after a successful sync (the data
        checks block packages)."""
        from content_assets.definitions import ALL_ASSETS, ALL_CHECKS
        from content_assets.jobs import PACKAGE_ASSETS, SYNC_ASSETS
        from content_assets.stores import sync_tags

        runs: list[tuple[tuple[str, ...], dict[str, str]]] = [(SYNC_ASSETS, sync_tags(store)), (PACKAGE_ASSETS, {})]
        results = []
        for assets, tags in runs:
            result = dg.materialize(
                [*ALL_ASSETS, *ALL_CHECKS],
                selection=dg.AssetSelection.assets(*assets),
                resources=self.resources(),
                instance=self.instance,
                partition_key=store,
                tags=tags,
                run_config=_config_for(run_config, assets),
                raise_on_error=raise_on_error,
            )
            results.append(result)
            if not result.success:
                break
        return ProjectRun(results)

    def connect(self, store: str = "default"):  # noqa: ANN201
        """The store's catalog, where the code location keeps it (CONTENT_DB_URL, else CONTENT_DB_PATH)."""
        from resources.store import DuckDBStore, PostgresStore

        url = os.environ.get("CONTENT_DB_URL")
        database = PostgresStore(url=url) if url else DuckDBStore(database_path=str(self.database_path))
        return database.for_store(store).connect()


def _config_for(run_config: dict | None, assets: tuple[str, ...]) -> dict | None:
    """The part of `run_config` for the ops of this run (catalog_sync makes three assets)."""
    if not run_config:
        return run_config
    ops_of_run = {"catalog_sync" if asset in ("product_list", "product_details", "products") else asset
                  for asset in assets}
    return {**run_config, "ops": {name: config for name, config in run_config.get("ops", {}).items()
                                  if name in ops_of_run}}


@dataclass
class ProjectRun:
    """The runs of one Project.materialize, oldest first: the sync run(s), then the package run."""

    results: list[dg.ExecuteInProcessResult]

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)

    @property
    def run_id(self) -> str:
        """The first sync run: the one that signs in and makes the most API calls."""
        return self.results[0].run_id


# Values that describe the store after the run, not work the run did: not added up across runs.
_STATE_KEYS = {"dagster/row_count", "pending"}


def asset_metadata(result: dg.ExecuteInProcessResult | ProjectRun, asset: str) -> dict[str, object]:
    """The asset's metadata from a run. Over several runs, counts of work add up; other values
    (timings, table sizes) are the last run's."""
    if isinstance(result, ProjectRun):
        found = [_metadata_of(run, asset) for run in result.results]
        runs = [metadata for metadata in found if metadata is not None]
        if not runs:
            raise AssertionError(f"{asset} was not materialized")
        merged = dict(runs[-1])
        for key, value in merged.items():
            if key not in _STATE_KEYS and type(value) is int:
                merged[key] = sum(int(run.get(key) or 0) for run in runs)
        return merged
    metadata = _metadata_of(result, asset)
    if metadata is None:
        raise AssertionError(f"{asset} was not materialized")
    return metadata


def _metadata_of(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object] | None:
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization and materialization.asset_key.to_user_string() == asset:
            return {key: value.value for key, value in materialization.metadata.items()}
    return None


@contextmanager
def project_at(folder: Path, emulator: EmulatorServer, *, database_url: str | None = None) -> Iterator[Project]:
    """A project in `folder` against `emulator`: the environment `make run` sets, for as long as
    the block runs; its catalog on the Postgres of `database_url` if given."""
    home = folder / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(home))
        env.setenv("NAVER_COMMERCE_BASE_URL", emulator.base_url)
        env.setenv("NAVER_COMMERCE_CLIENT_ID", DEFAULT_CLIENT_ID)
        env.setenv("NAVER_COMMERCE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        env.setenv("CONTENT_DB_PATH", str(folder / "content.duckdb"))
        if database_url:
            env.setenv("CONTENT_DB_URL", database_url)
        else:
            env.delenv("CONTENT_DB_URL", raising=False)
        env.setenv("PACKAGES_DIR", str(folder / "packages"))
        with dg.DagsterInstance.get() as instance:
            yield Project(emulator, folder / "content.duckdb", folder / "packages" / "default", home, instance)
