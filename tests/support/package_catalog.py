"""The package tests' project: the emulated catalog synced into the store without Dagster, and
content_packages materialized on its own with a given config."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorServer, Product
from content_assets.packages.assets import content_packages
from content_assets.packages.settings import PackageSettingsResource
from content_assets.sync.engine import run_sync
from resources.commerce_api import CommerceApiClient
from resources.store import refresh_queue
from tests.support.project import Project, asset_metadata

# Quirks are placed by catalog position (commerce_emulator.seller_quirks). 8 products hold a
# hostile detail page, a playable video, a hostile name and a path-like SKU; 60 hold every kind,
# broken and missing videos included.
SMALL_CATALOG = 8
QUIRKY_CATALOG = 60


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
        """Materialize content_packages alone with this config: package settings (variants,
        disclosure, ...) go to the `package_settings` resource, the rest is the asset's config."""
        settings = {key: config.pop(key) for key in list(config) if key in PackageSettingsResource.model_fields}
        config.setdefault("image_threads", 2)
        return dg.materialize(
            [content_packages],
            resources={**self.project.resources(), "package_settings": PackageSettingsResource(**settings)},
            instance=self.project.instance,
            run_config={"ops": {"content_packages": {"config": config}}},
            partition_key="default",
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
