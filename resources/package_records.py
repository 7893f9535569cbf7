"""The `packages` and `package_images` tables: what was built, with what, and its pictures' hashes.

A package row says which template version and settings built it, so a run can find packages a
changed template or setting made stale without re-rendering the whole catalog. Picture rows feed
the repeated-pictures report and the gallery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import duckdb
import pyarrow as pa


@dataclass(frozen=True)
class PackageRecord:
    origin_product_no: int
    variant: str
    path: str
    content_hash: str
    size_bytes: int
    template_name: str
    template_version: str
    settings_hash: str
    image_count: int
    keyframe_count: int | None
    video_status: str | None  # ok | broken | missing, None without a video
    video_error: str | None


@dataclass(frozen=True)
class PictureRecord:
    origin_product_no: int
    variant: str
    file: str
    sha256: str
    phash: str
    source_url: str | None
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class BuiltPackage:
    """A package row as the staleness check reads it."""

    origin_product_no: int
    variant: str
    template_version: str | None
    settings_hash: str | None


@dataclass(frozen=True)
class GalleryRow:
    origin_product_no: int
    name: str
    sale_price: int | None
    discounted_price: int | None
    variant: str | None  # None: no package yet (its build failed)
    content_hash: str | None
    image_count: int | None
    keyframe_count: int | None
    video_status: str | None
    video_error: str | None
    built_at: datetime | None
    queue_status: str | None
    last_error: str | None


_PACKAGE_COLUMNS = tuple(f.name for f in fields(PackageRecord))
_PICTURE_COLUMNS = tuple(f.name for f in fields(PictureRecord))


def record_packages(
    con: duckdb.DuckDBPyConnection, packages: Sequence[PackageRecord], pictures: Sequence[PictureRecord]
) -> None:
    """Upsert package rows and replace the picture rows of those packages. `built_at` moves only
    when the content changed, so re-recording an unchanged package changes nothing a reader sees."""
    if not packages:
        return
    columns = ", ".join(_PACKAGE_COLUMNS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in _PACKAGE_COLUMNS[2:])
    con.register("recorded_packages", _arrow(packages, _PACKAGE_COLUMNS))
    try:
        con.execute(
            f"""
            INSERT INTO packages ({columns}, built_at) SELECT {columns}, now() FROM recorded_packages
            ON CONFLICT (origin_product_no, variant) DO UPDATE SET {updates},
                built_at = CASE WHEN packages.content_hash = excluded.content_hash THEN packages.built_at
                                ELSE excluded.built_at END
            """
        )
        con.execute("DELETE FROM package_images USING recorded_packages r "
                    "WHERE package_images.origin_product_no = r.origin_product_no AND package_images.variant = r.variant")
    finally:
        con.unregister("recorded_packages")
    if pictures:
        con.register("recorded_pictures", _arrow(pictures, _PICTURE_COLUMNS))
        try:
            con.execute(f"INSERT INTO package_images ({', '.join(_PICTURE_COLUMNS)}) "
                        f"SELECT {', '.join(_PICTURE_COLUMNS)} FROM recorded_pictures")
        finally:
            con.unregister("recorded_pictures")


def _arrow(records: Sequence[object], columns: tuple[str, ...]) -> pa.Table:
    return pa.table({name: [getattr(record, name) for record in records] for name in columns})


def packages_of_live_products(con: duckdb.DuckDBPyConnection) -> list[BuiltPackage]:
    rows = con.execute(
        """
        SELECT k.origin_product_no, k.variant, k.template_version, k.settings_hash
        FROM packages k JOIN products p USING (origin_product_no)
        WHERE p.status_type <> 'DELETE'
        ORDER BY k.origin_product_no, k.variant
        """
    ).fetchall()
    return [BuiltPackage(*row) for row in rows]


def recorded_keys(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (product, variant) pairs have a package row."""
    wanted = list(keys)
    if not wanted:
        return set()
    con.register("wanted_packages", pa.table({
        "origin_product_no": pa.array([k[0] for k in wanted], pa.int64()),
        "variant": pa.array([k[1] for k in wanted], pa.string()),
    }))
    try:
        rows = con.execute("SELECT origin_product_no, variant FROM packages JOIN wanted_packages "
                           "USING (origin_product_no, variant)").fetchall()
    finally:
        con.unregister("wanted_packages")
    return {(int(no), variant) for no, variant in rows}


def picture_hashes(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, str]]:
    """(product, variant, file, phash) of every recorded picture of a live product."""
    return con.execute(
        """
        SELECT i.origin_product_no, i.variant, i.file, i.phash
        FROM package_images i JOIN products p USING (origin_product_no)
        WHERE p.status_type <> 'DELETE'
        ORDER BY 1, 2, 3
        """
    ).fetchall()


def gallery_rows(con: duckdb.DuckDBPyConnection) -> list[GalleryRow]:
    """Every package of a live product, and every live product whose package could not be built."""
    rows = con.execute(
        """
        SELECT p.origin_product_no, p.name, p.sale_price, p.discounted_price, k.variant, k.content_hash,
               k.image_count, k.keyframe_count, k.video_status, k.video_error, k.built_at, q.status, q.last_error
        FROM products p
        LEFT JOIN packages k USING (origin_product_no)
        LEFT JOIN refresh_queue q USING (origin_product_no)
        WHERE p.status_type <> 'DELETE' AND (k.origin_product_no IS NOT NULL OR q.status = 'failed')
        ORDER BY p.origin_product_no, k.variant
        """
    ).fetchall()
    return [GalleryRow(*row) for row in rows]
