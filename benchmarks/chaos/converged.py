"""What one clean run must leave behind, whatever was killed before it: the DuckDB file opens, the
`products` table is the emulator's catalog, every live product's package is of its current version
(by the project's own content hash), nothing is left in staging, and the refresh queue is drained.

Each failed invariant becomes one line in `ScenarioResult.problems`, with a few product numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

from benchmarks.chaos.emulator_catalog import CatalogEntry, epoch_ms
from benchmarks.chaos.result import ScenarioResult
from content_assets.packages.plan import PackageRenderer, PackageSettings, TemplateSet, load_package_products
from resources.package_files.writer import BUILDS, STAGING
from resources.store import DuckDBStore

VARIANT = "default"  # what scripts/run.py builds: the package asset's default config
PACKAGE_FILES = ("post.html", "preview.html", "meta.json", "package.zip", "unique-pack.zip")


def _some(numbers: Iterable[object], limit: int = 5) -> str:
    listed = sorted(numbers)  # type: ignore[type-var]
    more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
    return ", ".join(str(n) for n in listed[:limit]) + more


def check_converged(result: ScenarioResult, database_path: Path, packages_dir: Path,
                    catalog: dict[int, CatalogEntry]) -> None:
    """Record every invariant that does not hold; add `items_lost` and `duplicates` to the figures."""
    # Opened the way every run opens it (the session's time zone is part of a package's content hash).
    try:
        with DuckDBStore(database_path=str(database_path)).connect() as store:
            lost_rows = _check_products(result, store.con, catalog)
            duplicates = _count_duplicates(result, store.con)
            _check_queue(result, store.con)
            lost_packages = _check_packages(result, store.con, packages_dir, catalog)
    except duckdb.Error as exc:
        result.check(False, f"the DuckDB file does not reopen: {type(exc).__name__}: {exc}")
        result.figures.update(items_lost=len(catalog), duplicates=None)
        return
    leftovers = sorted(p.name for p in (packages_dir / STAGING).glob("*")) if (packages_dir / STAGING).exists() else []
    result.check(not leftovers, f"{len(leftovers)} leftover(s) in {STAGING}/ after the clean run: {_some(leftovers)}")
    result.figures.update(items_lost=lost_rows + lost_packages, duplicates=duplicates)


def _check_products(result: ScenarioResult, con: duckdb.DuckDBPyConnection, catalog: dict[int, CatalogEntry]) -> int:
    """The table equals the catalog: every product, its status, its modifiedDate. Returns the products lost."""
    rows = con.execute("SELECT origin_product_no, status_type, epoch_ms(modified_date) FROM products").fetchall()
    stored = {int(no): (status, int(ms)) for no, status, ms in rows}
    missing = set(catalog) - set(stored)
    extra = set(stored) - set(catalog)
    wrong_status = {no for no, entry in catalog.items() if no in stored and stored[no][0] != entry.status_type}
    stale = {no for no, entry in catalog.items() if no in stored and stored[no][1] != entry.modified_ms}
    result.check(not missing, f"{len(missing)} catalog product(s) missing from products: {_some(missing)}")
    result.check(not extra, f"{len(extra)} product(s) in the table the emulator does not list: {_some(extra)}")
    result.check(not wrong_status, f"{len(wrong_status)} product(s) with another status than the catalog's "
                                   f"(deleted ones must read DELETE): {_some(wrong_status)}")
    result.check(not stale, f"{len(stale)} product(s) whose stored modifiedDate is not the catalog's: {_some(stale)}")
    return len(missing | wrong_status | stale)


def _count_duplicates(result: ScenarioResult, con: duckdb.DuckDBPyConnection) -> int:
    """Rows beyond the first for one key, in every table keyed by product."""
    total = 0
    for table, key in (("products", "origin_product_no"), ("refresh_queue", "origin_product_no"),
                       ("packages", "origin_product_no, variant"), ("product_list", "origin_product_no")):
        (extra,) = con.execute(f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}").fetchone()  # noqa: S608
        result.check(extra == 0, f"{extra} duplicate row(s) in {table} by ({key})")
        total += int(extra)
    return total


def _check_queue(result: ScenarioResult, con: duckdb.DuckDBPyConnection) -> None:
    """Nothing pending or in progress, and every live product's current version was asked for and done."""
    counts = dict(con.execute("SELECT status, count(*) FROM refresh_queue GROUP BY status").fetchall())
    for status in ("pending", "in_progress", "failed"):
        result.check(not counts.get(status), f"the refresh queue holds {counts.get(status)} {status} item(s) "
                                             "after the clean run")
    not_done = [no for (no,) in con.execute(
        """
        SELECT p.origin_product_no FROM products p LEFT JOIN refresh_queue q USING (origin_product_no)
        WHERE p.status_type <> 'DELETE'
          AND (q.origin_product_no IS NULL OR q.payload_hash <> p.payload_hash OR q.status <> 'done')
        """).fetchall()]
    result.check(not not_done, f"{len(not_done)} live product(s) whose current version is not done in the "
                               f"refresh queue: {_some(not_done)}")


def _check_packages(result: ScenarioResult, con: duckdb.DuckDBPyConnection, packages_dir: Path,
                    catalog: dict[int, CatalogEntry]) -> int:
    """Every live product has a whole package whose content hash is what the project computes for
    the product's current row, recorded in `packages`, linked, with the catalog's modifiedDate."""
    live = sorted(no for no, entry in catalog.items() if entry.live)
    products = load_package_products(con, live)
    recorded = dict(con.execute("SELECT origin_product_no, content_hash FROM packages WHERE variant = ?",
                                [VARIANT]).fetchall())
    renderer = PackageRenderer(TemplateSet(), PackageSettings())
    behind: dict[str, set[int]] = {}
    for number in live:
        reason = _package_problem(number, products.get(number), recorded.get(number), renderer, packages_dir,
                                  catalog[number])
        if reason:
            behind.setdefault(reason, set()).add(number)
    for reason, numbers in sorted(behind.items()):
        result.check(False, f"{len(numbers)} live product(s) whose package is not current: {reason}: {_some(numbers)}")
    return sum(len(numbers) for numbers in behind.values())


def _package_problem(number: int, product: object, recorded_hash: str | None, renderer: PackageRenderer,
                     packages_dir: Path, entry: CatalogEntry) -> str | None:
    if product is None:
        return "no products row"
    wanted = renderer.plan(product, VARIANT).content_hash  # type: ignore[arg-type]
    if recorded_hash is None:
        return "no packages record"
    if recorded_hash != wanted:
        return "its packages record is of another version"
    link = packages_dir / str(number) / VARIANT
    if not link.is_symlink() or link.resolve().parent != (packages_dir / BUILDS).resolve():
        return "no published link into .builds"
    target = link.resolve()
    if any(not (target / name).is_file() for name in PACKAGE_FILES):
        return "a published package misses one of its files"
    meta = json.loads((target / "meta.json").read_text())
    if meta.get("contentHash") != wanted:
        return "the published meta.json is of another version"
    if epoch_ms(meta["modifiedDate"]) != entry.modified_ms:
        return "the published meta.json's modifiedDate is not the catalog's"
    if any(not (target / name).is_file() for name in meta.get("uploadOrder", [])):
        return "a picture of the upload order is missing"
    return None
