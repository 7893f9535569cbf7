"""Fixtures for the package tests: an emulated catalog with every seller quirk, synced into the
store without Dagster, and content_packages materialized on its own with a given config
(tests/support/package_catalog.py).

The sync goes through `run_sync` directly: these tests are about packages, and a catalog of a few
dozen products syncs in well under a second that way.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from commerce_emulator import EmulatorConfig, EmulatorServer
from tests.support.package_catalog import QUIRKY_CATALOG, SMALL_CATALOG, Packages
from tests.support.project import Project, project_at


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """One emulator per test module (it overrides tests/conftest.py's), so that the state built
    once for a module can be copied into each test: the product rows' image URLs name its port.
    A test that changes the catalog (`emulator.modify`) must sync it itself; others never sync."""
    with EmulatorServer(EmulatorConfig(products=SMALL_CATALOG, seed=7, rate=1000.0, port=0)) as server:
        yield server


@pytest.fixture
def packages(project: Project) -> Packages:
    return Packages(project)


@pytest.fixture(scope="module")
def built_state(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small catalog synced and every package built, once per module, to be copied."""
    folder = tmp_path_factory.mktemp("built")
    with project_at(folder, emulator) as project:
        packages = Packages(project)
        packages.sync()
        assert packages.build()["packages_failed"] == 0
    return folder


@pytest.fixture
def built(packages: Packages, built_state: Path) -> Packages:
    """The small catalog synced and every package built once (a copy of the module's state:
    `cp -a` keeps the hard links between the image cache and the packages)."""
    for name in ("content.duckdb", "content.duckdb.wal"):
        if (built_state / name).exists():
            shutil.copy2(built_state / name, packages.project.database_path.with_name(name))
    subprocess.run(["cp", "-a", str(built_state / "packages"), str(packages.project.packages_root)], check=True)
    return packages


@pytest.fixture(scope="module")
def quirky_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Packages, dict[str, Any]]]:
    """The 60-product catalog with every quirk, built once for a module of read-only tests."""
    config = EmulatorConfig(products=QUIRKY_CATALOG, seed=7, rate=1000.0, port=0)
    with EmulatorServer(config) as emulator, project_at(tmp_path_factory.mktemp("quirky"), emulator) as project:
        packages = Packages(project)
        packages.sync()
        yield packages, packages.build()
