"""A single-store install of old (one DuckDB file with no store key, packages straight under
PACKAGES_DIR) becomes store `default` on its first run: the tables gain the store key, the packages
move under default/ by renames, and nothing is fetched or rebuilt."""

from __future__ import annotations

import os
import shutil

import duckdb

from tests.support.project import Project, asset_metadata


def _files(root) -> dict[str, tuple[int, int]]:  # noqa: ANN001
    """Every file under `root` (links not followed), by path relative to it: (inode, mtime)."""
    found = {}
    for folder, _, names in os.walk(root, followlinks=False):
        for name in names:
            path = os.path.join(folder, name)
            status = os.stat(path, follow_symlinks=False)
            found[os.path.relpath(path, root)] = (status.st_ino, status.st_mtime_ns)
    return found


def _as_single_store_install(project: Project) -> None:
    """Turn the project's store `default` into what a single-store install left: no store_key
    columns, no stamp, no cursor, packages and builds at the top of PACKAGES_DIR."""
    with duckdb.connect(str(project.database_path)) as con:
        tables = [name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE column_name = 'store_key' AND schema_name = 'main'").fetchall()]
        for table in tables:
            con.execute(f'ALTER TABLE "{table}" DROP COLUMN store_key')
        con.execute("DROP TABLE catalog_store")
        con.execute("DROP TABLE sync_cursor")
        con.execute("DELETE FROM schema_migrations WHERE version = 9")
        con.execute("UPDATE packages SET path = replace(path, '/packages/default/', '/packages/')")
    root = project.packages_root
    for entry in os.listdir(project.packages_dir):
        os.replace(project.packages_dir / entry, root / entry)
    shutil.rmtree(project.packages_dir)
    (root / "index.html").unlink()  # the page listing stores did not exist; the old gallery moved up


def test_a_single_store_install_becomes_store_default_with_nothing_fetched_or_rebuilt(project: Project):
    first = project.materialize()
    built = asset_metadata(first, "content_packages")["packages_built"]
    assert built > 0
    _as_single_store_install(project)
    assert (project.packages_root / ".builds").is_dir() and not project.packages_dir.exists()
    before = _files(project.packages_root)
    details_before = project.emulator.stats()["requests"].get("detail", {})

    again = project.materialize()

    assert project.emulator.stats()["requests"].get("detail", {}) == details_before  # nothing fetched
    packages = asset_metadata(again, "content_packages")
    assert packages["packages_built"] == 0
    assert asset_metadata(again, "products")["rows_written"] == 0
    after = _files(project.packages_dir)
    # Rewritten by the run: the store's gallery and summary, and the top page's lock.
    moved = {path: stamp for path, stamp in before.items() if path not in ("index.html", "summary.json", ".index.lock")}
    # The same files (same inodes, untouched) now under default/; the relative links still resolve.
    assert {path: after.get(path) for path in moved} == moved
    number = next(name for name in os.listdir(project.packages_dir) if name.isdigit())
    assert (project.packages_dir / number / "default" / "post.html").is_file()
    assert not (project.packages_root / ".builds").exists()
    with duckdb.connect(str(project.database_path), read_only=True) as con:
        assert con.execute("SELECT DISTINCT store_key FROM products").fetchall() == [("default",)]
        assert con.execute("SELECT store_key FROM catalog_store").fetchall() == [("default",)]
        paths = [path for (path,) in con.execute("SELECT path FROM packages").fetchall()]
    assert paths and all(f"{os.sep}packages{os.sep}default{os.sep}" in path for path in paths)
