"""The invariants the chaos scenarios judge, read from what the runs left: the DuckDB file and the
packages folder. Each returns plain numbers or lists, so a scenario reports them as figures and
turns the ones that must be zero into problems.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import duckdb

from tests.support.html_checks import active_content

# The tables keyed by product (and variant) whose rows must be unique, and their keys.
KEYED_TABLES = {
    "products": "origin_product_no",
    "product_list": "origin_product_no",
    "refresh_queue": "origin_product_no",
    "packages": "origin_product_no, variant",
}


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
                or con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]).fetchone()[0])


def duplicate_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows beyond the first per key, per table (a key held twice counts once)."""
    duplicates = {}
    for table, key in KEYED_TABLES.items():
        if table_exists(con, table):
            duplicates[table] = con.execute(
                f"SELECT count(*) - count(DISTINCT ({key})) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
    return duplicates


def quarantine(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Quarantined product -> its reason ('' when it has none); empty while there is no such table."""
    if not table_exists(con, "sync_quarantine"):
        return {}
    rows = con.execute("SELECT origin_product_no, coalesce(reason, '') FROM sync_quarantine").fetchall()
    return {number: reason for number, reason in rows}


def stored_versions(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[int, int | None]]:
    """Product -> (modifiedDate in epoch ms, salePrice) of its row in `products`."""
    rows = con.execute("SELECT origin_product_no, epoch_ms(modified_date), sale_price FROM products").fetchall()
    return {number: (modified_ms, price) for number, modified_ms, price in rows}


def catalog_numbers(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Every product the store shows: `products`, plus the quarantine's `catalog_products` view where it exists."""
    table = "catalog_products" if table_exists(con, "catalog_products") else "products"
    return {row[0] for row in con.execute(f"SELECT origin_product_no FROM {table}").fetchall()}  # noqa: S608


def lost_queue_items(con: duckdb.DuckDBPyConnection, held: set[int]) -> tuple[list[int], list[int]]:
    """(lost, not done): live products outside `held` whose current payload hash has no queue row,
    and those whose row is not `done` (judged after a package run)."""
    rows = con.execute(
        """SELECT p.origin_product_no, q.payload_hash = p.payload_hash, q.status
           FROM products p LEFT JOIN refresh_queue q USING (origin_product_no)
           WHERE p.status_type <> 'DELETE'""").fetchall()
    lost = [number for number, current, _ in rows if number not in held and not current]
    not_done = [number for number, current, status in rows if number not in held and current and status != "done"]
    return lost, not_done


def path_escapes(packages_dir: Path) -> list[str]:
    """Every file or link under the packages folder whose real path lies outside it."""
    root = os.path.realpath(packages_dir)
    escapes = []
    for folder, dirs, files in os.walk(packages_dir, followlinks=False):
        for name in dirs + files:
            path = os.path.join(folder, name)
            real = os.path.realpath(path)
            if real != root and not real.startswith(root + os.sep):
                escapes.append(f"{os.path.relpath(path, packages_dir)} -> {real}")
    return escapes


def active_html(packages_dir: Path) -> list[str]:
    """Active content (scripts, handlers, javascript: URLs, frames, <style>, ...) in any post or
    preview. Class and id attributes are a blog-editor style rule, not a danger: not counted here."""
    problems = []
    for path in sorted(packages_dir.glob("*/*/*.html")):
        if path.name not in ("post.html", "preview.html"):
            continue
        found = active_content(path.read_text(encoding="utf-8", errors="replace"),
                               document=path.name == "preview.html")
        problems += [f"{path.relative_to(packages_dir)}: {problem}" for problem in found
                     if "inline styles only" not in problem]
    return problems


def control_characters(packages_dir: Path) -> list[str]:
    """Posts that carry NUL, other C0 controls or bidi overrides: inert, but a spoofing risk."""
    found = []
    for path in sorted(packages_dir.glob("*/*/post.html")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r" or char in "\u202a\u202b\u202d\u202e"
               for char in text):
            found.append(str(path.relative_to(packages_dir)))
    return found


def package_meta(packages_dir: Path, origin_product_no: int, variant: str = "default") -> dict | None:
    meta = packages_dir / str(origin_product_no) / variant / "meta.json"
    return json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else None
