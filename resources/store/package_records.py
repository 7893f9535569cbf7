"""The `packages` and `package_images` tables: what was built, with what, and its pictures' hashes.

A package row says which template version and settings built it, so a run can find packages a
changed template or setting made stale without re-rendering the whole catalog. Picture rows feed
the repeated-pictures report and the gallery. A package built without some of its pictures says
which and why, and when the first of them is tried again: from then on it is stale
(`MISSING_RETRY_DUE`, the one form of that rule, read by the package run and by the sensor; the
whole stale-package rule, in SQL and in Python, is content_assets/packages/staleness.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import duckdb
import pyarrow as pa

from .catalog_store import DELETED

# A product the store still sells or shows, of the `products` table (alias `p`).
LIVE_PRODUCT = f"p.status_type <> '{DELETED}'"
# A package of a live product that is missing pictures whose retry time has passed (alias `k`).
MISSING_RETRY_DUE = "coalesce(k.missing_images > 0 AND k.missing_retry_at <= now(), false)"


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
    missing_images: int = 0  # pictures the package was built without
    missing_image_reasons: str | None = None  # JSON: [{position, sourceUrl, reason}]
    missing_retry_at: datetime | None = None  # the first of them is tried again from then


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
    missing_retry_due: bool = False  # built without pictures that may be had now


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
    missing_images: int | None = None
    missing_image_reasons: str | None = None  # JSON, as recorded


@dataclass(frozen=True)
class QuarantinedProduct:
    """A product the sync holds back (the `sync_quarantine` table), as the gallery shows it."""

    origin_product_no: int
    name: str | None  # from its listing or last good detail; None when neither is stored
    reason: str
    failures: int
    retry_after: datetime | None


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


# The Arrow type of a record field, by its annotation: a column of nothing but None still has its type.
_ARROW_TYPES = {"int": pa.int64(), "str": pa.string(), "datetime": pa.timestamp("us", tz="UTC")}


def _arrow(records: Sequence[object], columns: tuple[str, ...]) -> pa.Table:
    kinds = {f.name: str(f.type).split(" | ")[0] for f in fields(records[0])}
    return pa.table({name: pa.array([getattr(record, name) for record in records], _ARROW_TYPES[kinds[name]])
                     for name in columns})


def packages_of_live_products(con: duckdb.DuckDBPyConnection) -> list[BuiltPackage]:
    rows = con.execute(
        f"""
        SELECT k.origin_product_no, k.variant, k.template_version, k.settings_hash, {MISSING_RETRY_DUE}
        FROM packages k JOIN products p USING (origin_product_no)
        WHERE {LIVE_PRODUCT}
        ORDER BY k.origin_product_no, k.variant
        """  # noqa: S608
    ).fetchall()
    return [BuiltPackage(*row) for row in rows]


def recorded_versions(con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The content hash each of these (product, variant) pairs' package row records, where it has one."""
    wanted = list(keys)
    if not wanted:
        return {}
    con.register("wanted_packages", pa.table({
        "origin_product_no": pa.array([k[0] for k in wanted], pa.int64()),
        "variant": pa.array([k[1] for k in wanted], pa.string()),
    }))
    try:
        rows = con.execute("SELECT origin_product_no, variant, content_hash FROM packages JOIN wanted_packages "
                           "USING (origin_product_no, variant)").fetchall()
    finally:
        con.unregister("wanted_packages")
    return {(int(no), variant): content_hash for no, variant, content_hash in rows}


def picture_hashes(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, str]]:
    """(product, variant, file, phash) of every recorded picture of a live product."""
    return con.execute(
        f"""
        SELECT i.origin_product_no, i.variant, i.file, i.phash
        FROM package_images i JOIN products p USING (origin_product_no)
        WHERE {LIVE_PRODUCT}
        ORDER BY 1, 2, 3
        """  # noqa: S608
    ).fetchall()


def gallery_rows(con: duckdb.DuckDBPyConnection) -> list[GalleryRow]:
    """Every package of a live product, and every live product whose package could not be built."""
    rows = con.execute(
        f"""
        SELECT p.origin_product_no, p.name, p.sale_price, p.discounted_price, k.variant, k.content_hash,
               k.image_count, k.keyframe_count, k.video_status, k.video_error, k.built_at, q.status, q.last_error,
               k.missing_images, k.missing_image_reasons
        FROM products p
        LEFT JOIN packages k USING (origin_product_no)
        LEFT JOIN refresh_queue q USING (origin_product_no)
        WHERE {LIVE_PRODUCT} AND (k.origin_product_no IS NOT NULL OR q.status = 'failed')
        ORDER BY p.origin_product_no, k.variant
        """  # noqa: S608
    ).fetchall()
    return [GalleryRow(*row) for row in rows]


def missing_retries_due(con: duckdb.DuckDBPyConnection) -> tuple[int, datetime | None]:
    """How many packages of live products wait for a picture retry that is due, and the latest
    of those retry times (a sensor's run key changes when a new one falls due)."""
    ((count, latest),) = con.execute(
        f"""
        SELECT count(*), max(k.missing_retry_at) FROM packages k JOIN products p USING (origin_product_no)
        WHERE {LIVE_PRODUCT} AND {MISSING_RETRY_DUE}
        """  # noqa: S608
    ).fetchall()
    return int(count), latest


def quarantined_products(con: duckdb.DuckDBPyConnection) -> list[QuarantinedProduct]:
    """Every product the sync quarantined, with its name where the store has one; none before
    the quarantine table exists (a store not yet migrated to it)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables "
                         "WHERE table_name = 'sync_quarantine' AND table_schema = current_schema()").fetchone()
    if not exists or not exists[0]:
        return []
    rows = con.execute(
        """
        SELECT q.origin_product_no, coalesce(p.name, l.name), q.reason, q.failures, q.retry_after
        FROM sync_quarantine q
        LEFT JOIN products p USING (origin_product_no)
        LEFT JOIN product_list l USING (origin_product_no)
        ORDER BY q.origin_product_no
        """
    ).fetchall()
    return [QuarantinedProduct(*row) for row in rows]


def rebase_paths(con: duckdb.DuckDBPyConnection, old_root: str, new_root: str) -> int:
    """Point recorded package paths under `old_root` at `new_root` (a single-store packages folder
    carried into its store's folder: resources/package_files/layout.py); the rows changed."""
    old, new = old_root.rstrip("/") + "/", new_root.rstrip("/") + "/"
    rows = con.execute(
        "UPDATE packages SET path = ? || substr(path, ?::INTEGER) WHERE starts_with(path, ?) AND NOT starts_with(path, ?) "
        "RETURNING 1",
        [new, len(old) + 1, old, new],
    ).fetchall()
    return len(rows)
