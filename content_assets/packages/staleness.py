"""When a package is stale: the rule's one home, in the SQL form the template-change sensor counts
with and the Python form the package run decides with (tests/packages/test_staleness.py pins them
to each other).

A package of a live product is *outdated* when the template version or the settings hash it was
built with is not the one a package built now would have (`OUTDATED` in SQL, `PackageVersion.outdated`
in Python). The package run rebuilds, for a product that has a package, every wanted variant whose
package is outdated, missing, or built without pictures whose retry is due
(package_records.MISSING_RETRY_DUE); the template-change sensor counts outdated packages only (the
refresh-queue sensor counts the retries, a missing variant waits for the product's next change).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from resources.store import package_records
from resources.store.package_records import LIVE_PRODUCT, BuiltPackage

from content_assets.packages.plan import PackageSettings, TemplateSet

# A package row `k` against the wanted version `w` of its variant; the parameter is the settings hash.
OUTDATED = "(k.template_version IS DISTINCT FROM w.template_version OR k.settings_hash IS DISTINCT FROM ?)"


@dataclass(frozen=True)
class PackageVersion:
    """What a package built now is made with."""

    templates: dict[str, str]  # variant -> template version (the template, what it imports, the format)
    settings: str  # PackageSettings fingerprint (includes PACKAGE_FORMAT_VERSION)

    @classmethod
    def of(cls, templates: TemplateSet, variants: Iterable[str], settings: PackageSettings) -> PackageVersion:
        return cls({variant: templates.get(variant).version for variant in variants}, settings.fingerprint)

    @property
    def key(self) -> str:
        text = json.dumps([self.templates, self.settings], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def outdated(self, package: BuiltPackage) -> bool:
        """`OUTDATED`, in Python (`!=` on None is SQL's IS DISTINCT FROM)."""
        return (package.template_version != self.templates[package.variant]
                or package.settings_hash != self.settings)


def _outdated_rows(con: duckdb.DuckDBPyConnection, version: PackageVersion, select: str) -> list[tuple]:
    """`select` over the outdated packages of live products, of the variants `version` names."""
    wanted = pa.table({"variant": list(version.templates), "template_version": list(version.templates.values())})
    con.register("wanted_versions", wanted)
    try:
        return con.execute(
            f"""
            SELECT {select} FROM packages k
            JOIN products p USING (origin_product_no)
            JOIN wanted_versions w USING (variant)
            WHERE {LIVE_PRODUCT} AND {OUTDATED}
            """,  # noqa: S608
            [version.settings],
        ).fetchall()
    finally:
        con.unregister("wanted_versions")


def count_outdated(con: duckdb.DuckDBPyConnection, version: PackageVersion) -> int:
    """Packages of live products built with another template version or other settings."""
    ((count,),) = _outdated_rows(con, version, "count(*)")
    return int(count)


def outdated_keys(con: duckdb.DuckDBPyConnection, version: PackageVersion) -> set[tuple[int, str]]:
    """(product, variant) of the packages `count_outdated` counts."""
    return {(int(number), variant) for number, variant in
            _outdated_rows(con, version, "k.origin_product_no, k.variant")}


def stale_packages(con: duckdb.DuckDBPyConnection, version: PackageVersion,
                   variants_of: Callable[[int], list[str]], claimed: set[int]) -> set[tuple[int, str]]:
    """(product, variant) pairs of packaged live products whose package for a wanted variant is
    missing, outdated, or lacks pictures whose retry is due. Claimed products are built anyway."""
    by_product: dict[int, dict[str, BuiltPackage]] = {}
    for package in package_records.packages_of_live_products(con):
        by_product.setdefault(package.origin_product_no, {})[package.variant] = package
    stale: set[tuple[int, str]] = set()
    for number, packages in by_product.items():
        if number in claimed:
            continue
        for variant in variants_of(number):
            package = packages.get(variant)
            if package is None or version.outdated(package) or package.missing_retry_due:
                stale.add((number, variant))
    return stale
