"""Fixtures for the package tests: an emulated catalog with every seller quirk, synced into the
store without Dagster, and content_packages materialized on its own with a given config.

The sync goes through `run_sync` directly: these tests are about packages, and a catalog of a few
dozen products syncs in well under a second that way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer, Product
from content_assets.sync.engine import run_sync
from content_assets.packages.assets import content_packages
from resources.commerce_api import CommerceApiClient
from resources.store import refresh_queue
from tests.conftest import Project, asset_metadata

# Quirks are placed by catalog position (commerce_emulator.seller_quirks). 8 products hold a
# hostile detail page, a playable video, a hostile name and a path-like SKU; 60 hold every kind,
# broken and missing videos included.
SMALL_CATALOG = 8
QUIRKY_CATALOG = 60


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """One emulator per test module (it overrides tests/conftest.py's), so that the state built
    once for a module can be copied into each test: the product rows' image URLs name its port.
    A test that changes the catalog (`emulator.modify`) must sync it itself; others never sync."""
    with EmulatorServer(EmulatorConfig(products=SMALL_CATALOG, seed=7, rate=1000.0, port=0)) as server:
        yield server


@dataclass
class Packages:
    """The project with helpers to sync the catalog and build packages."""

    project: Project

    @property
    def root(self) -> Path:
        return self.project.packages_dir

    @property
    def emulator(self) -> EmulatorServer:
        return self.project.emulator

    def sync(self) -> None:
        """Sync the emulator's catalog into the store and enqueue what changed."""
        with CommerceApiClient(base_url=self.emulator.base_url, client_id=DEFAULT_CLIENT_ID,
                               client_secret=DEFAULT_CLIENT_SECRET, initial_rate_per_second=500.0) as client, \
                self.project.connect() as store:
            run_sync(client, store)
            refresh_queue.enqueue_changed_products(store.con)

    def run(self, *, raise_on_error: bool = True, **config: Any) -> dg.ExecuteInProcessResult:
        """Materialize content_packages alone with this config."""
        config.setdefault("image_threads", 2)
        return dg.materialize(
            [content_packages],
            resources=self.project.resources(),
            instance=self.project.instance,
            run_config={"ops": {"content_packages": {"config": config}}},
            raise_on_error=raise_on_error,
        )

    def build(self, **config: Any) -> dict[str, Any]:
        """Materialize content_packages alone; return its metadata."""
        return asset_metadata(self.run(**config), "content_packages")

    def requeue_all(self) -> None:
        with self.project.connect() as store:
            store.con.execute("UPDATE refresh_queue SET status = 'pending'")

    def live(self) -> list[Product]:
        return self.emulator.catalog.live_products()

    def package(self, number: int, variant: str = "default") -> Path:
        return self.root / str(number) / variant

    def meta(self, number: int, variant: str = "default") -> dict[str, Any]:
        return json.loads((self.package(number, variant) / "meta.json").read_text())

    def files(self) -> dict[str, tuple[int, int]]:
        """Every file under PACKAGES_DIR (links not followed): (mtime, inode)."""
        found = {}
        for path in self.root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                stat = path.stat()
                found[str(path.relative_to(self.root))] = (stat.st_mtime_ns, stat.st_ino)
        return found


@pytest.fixture
def packages(project: Project) -> Packages:
    return Packages(project)


@pytest.fixture(scope="module")
def built_state(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small catalog synced and every package built, once per module, to be copied."""
    folder = tmp_path_factory.mktemp("built")
    with _project_at(folder, emulator) as packages:
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
    subprocess.run(["cp", "-a", str(built_state / "packages"), str(packages.root)], check=True)
    return packages


@contextmanager
def _project_at(folder: Path, emulator: EmulatorServer) -> Iterator[Packages]:
    """A project in `folder` against `emulator`, outside the function-scoped fixtures."""
    home = folder / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(home))
        env.setenv("NAVER_COMMERCE_BASE_URL", emulator.base_url)
        env.setenv("NAVER_COMMERCE_CLIENT_ID", DEFAULT_CLIENT_ID)
        env.setenv("NAVER_COMMERCE_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        env.setenv("CONTENT_DB_PATH", str(folder / "content.duckdb"))
        env.setenv("PACKAGES_DIR", str(folder / "packages"))
        with dg.DagsterInstance.get() as instance:
            yield Packages(Project(emulator, folder / "content.duckdb", folder / "packages", home, instance))


@pytest.fixture(scope="module")
def quirky_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Packages, dict[str, Any]]]:
    """The 60-product catalog with every quirk, built once for a module of read-only tests."""
    config = EmulatorConfig(products=QUIRKY_CATALOG, seed=7, rate=1000.0, port=0)
    with EmulatorServer(config) as emulator, _project_at(tmp_path_factory.mktemp("quirky"), emulator) as packages:
        packages.sync()
        yield packages, packages.build()
