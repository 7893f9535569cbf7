"""The fixtures every folder shares: the emulator on a free loopback port, the project pointed at it,
and a crafted store with an in-memory instance. What they build lives in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from commerce_emulator import EmulatorConfig, EmulatorServer

# The tests' code location has the single store `default`, whatever the shell's environment holds
# (the stores are read when content_assets is imported).
os.environ.pop("CONTENT_OPS_STORES", None)

from resources.store import CatalogDatabase, DuckDBStore, PostgresStore  # noqa: E402
from resources.store.postgres.store import close_pools  # noqa: E402
from tests.support.browser import require_chromium  # noqa: E402
from tests.support.crafted_store import CraftedStore  # noqa: E402
from tests.support.project import Project, project_at  # noqa: E402
from tests.support.servers import PostgresServer, postgres_server  # noqa: E402


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Override in a test module for another catalog size or rate. 60 products hold every status
    and seller quirk; every product's pictures cost the package work a few tens of milliseconds."""
    return EmulatorConfig(products=60, seed=7, rate=500.0, port=0)


@pytest.fixture
def emulator(emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    with EmulatorServer(emulator_config) as server:
        yield server


@pytest.fixture
def project(emulator: EmulatorServer, tmp_path: Path) -> Iterator[Project]:
    with project_at(tmp_path, emulator) as configured:
        yield configured


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A Postgres server of this test process's own (skips without Debian's binaries, but under CI=true)."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """A new empty database on it."""
    url = postgres.create_database()
    yield url
    close_pools(url)


@pytest.fixture(params=["duckdb", "postgres"])
def catalog_db(request: pytest.FixtureRequest, tmp_path: Path) -> CatalogDatabase:
    """The store's two backends: every test that takes this (or `store`) runs on both, one suite."""
    if request.param == "duckdb":
        return DuckDBStore(database_path=str(tmp_path / "content.duckdb"))
    return PostgresStore(url=request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(catalog_db: CatalogDatabase) -> CraftedStore:
    return CraftedStore(catalog_db)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    # In memory: the same run and event storage API as a sqlite instance, without its start-up cost.
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture
def chromium_path() -> Path:
    return require_chromium()
