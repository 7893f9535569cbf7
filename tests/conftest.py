"""Shared fixtures: the emulator on a free loopback port, and the project's resources pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Override in a test module for another catalog size or rate."""
    return EmulatorConfig(products=200, seed=7, rate=500.0, port=0)


@pytest.fixture
def emulator(emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    with EmulatorServer(emulator_config) as server:
        yield server


@dataclass
class Project:
    """The project configured against one emulator, with its own DuckDB file, packages and instance."""

    emulator: EmulatorServer
    database_path: Path
    packages_dir: Path
    dagster_home: Path
    instance: dg.DagsterInstance

    def resources(self) -> dict[str, dg.ConfigurableResource]:
        from content_assets.definitions import build_resources

        return build_resources()

    def materialize(self, *, raise_on_error: bool = True, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
        from content_assets.definitions import ALL_ASSETS

        return dg.materialize(ALL_ASSETS, resources=self.resources(), instance=self.instance,
                              raise_on_error=raise_on_error, run_config=run_config)

    def connect(self):  # noqa: ANN201
        from resources.store import DuckDBStore

        return DuckDBStore(database_path=str(self.database_path)).connect()


def asset_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization and materialization.asset_key.to_user_string() == asset:
            return {key: value.value for key, value in materialization.metadata.items()}
    raise AssertionError(f"{asset} was not materialized")


@pytest.fixture
def project(emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("NAVER_COMMERCE_BASE_URL", emulator.base_url)
    monkeypatch.setenv("NAVER_COMMERCE_CLIENT_ID", DEFAULT_CLIENT_ID)
    monkeypatch.setenv("NAVER_COMMERCE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    monkeypatch.setenv("CONTENT_DB_PATH", str(tmp_path / "content.duckdb"))
    monkeypatch.setenv("PACKAGES_DIR", str(tmp_path / "packages"))
    with dg.DagsterInstance.get() as instance:
        yield Project(emulator, tmp_path / "content.duckdb", tmp_path / "packages", home, instance)
