"""The local copy of a store's catalog: listings, details, products, errors, packages.

All writes from a sync go through here, set-based: a page of listings or a chunk of details is
one Arrow table and a handful of statements in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from resources.commerce_api.models import ListedProduct, ProductDetail

from . import quarantine
from .numbers import DetailLedger
from .postgres.connection import is_postgres
from .quarantine import QuarantineFailure, QuarantineLedger
from .statuses import DELETED
from .upsert import (
    DETAIL_TEXT_MD5_COLUMN,
    PRODUCT_COLUMNS,
    UpsertCounts,
    detail_text_md5,
    merge_products,
    payload_hash_sql,
    replace_rows_sql,
)

_LISTING_SCHEMA = pa.schema(
    [
        ("origin_product_no", pa.int64()),
        ("channel_product_no", pa.int64()),
        ("seller_management_code", pa.string()),
        ("name", pa.string()),
        ("status_type", pa.string()),
        ("display_status", pa.string()),
        ("sale_price", pa.int64()),
        ("discounted_price", pa.int64()),
        ("stock_quantity", pa.int64()),
        ("representative_image_url", pa.string()),
        ("seller_tags", pa.list_(pa.string())),
        ("category", pa.string()),
        ("brand_name", pa.string()),
        ("manufacturer_name", pa.string()),
        ("reg_date", pa.string()),
        ("modified_date", pa.string()),
        ("channel_count", pa.int32()),
    ]
)

_DETAIL_SCHEMA = pa.schema(
    [
        ("origin_product_no", pa.int64()),
        ("name", pa.string()),
        ("status_type", pa.string()),
        ("sale_price", pa.int64()),
        ("stock_quantity", pa.int64()),
        ("detail_content", pa.string()),
        ("image_urls", pa.list_(pa.string())),
        ("seller_tags", pa.list_(pa.string())),
        ("seller_management_code", pa.string()),
        ("seller_barcode", pa.string()),
        ("brand_name", pa.string()),
        ("manufacturer_name", pa.string()),
        ("model_name", pa.string()),
        ("page_title", pa.string()),
        ("meta_description", pa.string()),
        ("channel_product_name", pa.string()),
    ]
)

# How a product row is made from its listing and its detail: the list is fresher for status and
# the Smart Store channel; the detail has the content.
_PRODUCT_FROM_LIST_AND_DETAIL = {
    "origin_product_no": "l.origin_product_no",
    "channel_product_no": "l.channel_product_no",
    "seller_management_code": "coalesce(d.seller_management_code, l.seller_management_code)",
    "name": "coalesce(d.name, l.name)",
    "status_type": "l.status_type",
    "sale_price": "coalesce(d.sale_price, l.sale_price)",
    "discounted_price": "l.discounted_price",
    "stock_quantity": "coalesce(d.stock_quantity, l.stock_quantity)",
    "representative_image_url": "coalesce(d.image_urls[1], l.representative_image_url)",
    "modified_date": "l.modified_date",
    "category": "l.category",
    "brand_name": "coalesce(d.brand_name, l.brand_name)",
    "manufacturer_name": "coalesce(d.manufacturer_name, l.manufacturer_name)",
    "model_name": "d.model_name",
    "seller_tags": "coalesce(nullif(d.seller_tags, ARRAY[]::VARCHAR[]), l.seller_tags)",
    "image_urls": "coalesce(d.image_urls, ARRAY[l.representative_image_url])",
    "detail_content": "d.detail_content",
    "page_title": "d.page_title",
    "meta_description": "d.meta_description",
}
assert tuple(_PRODUCT_FROM_LIST_AND_DETAIL) == PRODUCT_COLUMNS
assert tuple(_LISTING_SCHEMA.names) == tuple(ListedProduct.__dataclass_fields__)
assert tuple(_DETAIL_SCHEMA.names) == tuple(ProductDetail.__dataclass_fields__)


# A page's listings as product_list rows, a product listed twice on the page once.
_STORE_LISTING = replace_rows_sql(
    "product_list", "origin_product_no",
    {**{name: name for name in _LISTING_SCHEMA.names if name not in ("reg_date", "modified_date")},
     "reg_date": "reg_date::TIMESTAMPTZ", "modified_date": "modified_date::TIMESTAMPTZ", "listed_at": "now()"},
    "(SELECT DISTINCT ON (origin_product_no) * FROM listing_page ORDER BY origin_product_no) AS l",
)
# A chunk's details, as the ledger of which listed version each belongs to.
_STORE_DETAIL_LEDGER = replace_rows_sql(
    "product_details", "origin_product_no",
    {"origin_product_no": "d.origin_product_no", "modified_date": "l.modified_date", "fetched_at": "now()"},
    "detail_chunk d JOIN product_list l USING (origin_product_no)",
)


@dataclass(frozen=True)
class ListingWrite:
    """What storing a page of listings changed beyond the listing itself."""

    deleted_changed: tuple[int, ...]  # newly DELETE: no detail to fetch, the listing says it all
    deleted_upsert: UpsertCounts = UpsertCounts()  # the products rows those deletions wrote


@dataclass(frozen=True)
class SyncError:
    origin_product_no: int | None
    api: str
    status: int | None
    code: str | None
    message: str


class CatalogStore:
    """Operations on one open connection: DuckDB's, or Postgres's speaking as it does
    (postgres/connection.py). Not thread-safe: one writer thread per store."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    # -- product_list -----------------------------------------------------------------------

    def detail_ledger(self) -> DetailLedger:
        """origin_product_no -> the modifiedDate (epoch microseconds) its stored detail belongs to.

        A sync loads it once and decides from it which listed products need a detail call, so the
        first detail call does not wait for the first page to be written."""
        columns = self.con.execute(
            "SELECT origin_product_no, epoch_us(modified_date) AS modified_us FROM product_details"
        ).fetchnumpy()
        return DetailLedger(columns["origin_product_no"], columns["modified_us"])

    def write_listing(self, products: Sequence[ListedProduct]) -> ListingWrite:
        """Store a page of listings; products that turned DELETE get their row re-merged from it."""
        if not products:
            return ListingWrite(())
        # ListedProduct fields are the listing schema, column for column.
        page = pa.Table.from_pylist(
            [vars(p) for p in products],
            schema=_LISTING_SCHEMA,
        )
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("listing_page", page)
            deleted_changed = tuple(
                no for (no,) in con.execute(
                    f"""
                    SELECT DISTINCT l.origin_product_no
                    FROM listing_page l LEFT JOIN products p USING (origin_product_no)
                    WHERE l.status_type = '{DELETED}'
                      AND p.modified_date IS DISTINCT FROM l.modified_date::TIMESTAMPTZ
                    ORDER BY 1
                    """  # noqa: S608
                ).fetchall()
            )
            con.execute(_STORE_LISTING)
            quarantine.release_listed(con, "listing_page")
            con.unregister("listing_page")
            deleted_upsert = self._merge_products_for(deleted_changed) if deleted_changed else UpsertCounts()
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return ListingWrite(deleted_changed, deleted_upsert)

    # -- product_details and products -------------------------------------------------------

    def apply_details(self, details: Sequence[ProductDetail]) -> UpsertCounts:
        """Store a chunk of fetched details and upsert their products, in one transaction."""
        if not details:
            return UpsertCounts()
        # ProductDetail fields are the detail schema, column for column. The detail's text columns
        # are hashed here, in Python, as the product row takes them from the detail (name and
        # image_urls: the detail always has them), not again inside the write.
        chunk = pa.Table.from_pylist([vars(d) for d in details], schema=_DETAIL_SCHEMA)
        chunk = chunk.append_column(DETAIL_TEXT_MD5_COLUMN, pa.array([
            detail_text_md5(d.name, d.model_name, d.image_urls, d.detail_content, d.page_title, d.meta_description)
            for d in details
        ], pa.string()))
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("detail_chunk", chunk)
            # The detail belongs to the modifiedDate the list showed when it was asked for.
            con.execute(_STORE_DETAIL_LEDGER)
            counts = self._merge_products(
                "product_list l JOIN detail_chunk d USING (origin_product_no)",
                detail_text_md5=f"d.{DETAIL_TEXT_MD5_COLUMN}",
            )
            quarantine.release_fetched(con, "detail_chunk")
            con.unregister("detail_chunk")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return counts

    def _merge_products_for(self, origin_product_nos: Sequence[int]) -> UpsertCounts:
        """Re-merge these products from their listing, keeping the content they already have
        (a deleted product has no detail to fetch)."""
        self.con.register("merge_keys", pa.table({"origin_product_no": pa.array(origin_product_nos, pa.int64())}))
        counts = self._merge_products(
            "product_list l JOIN (SELECT DISTINCT origin_product_no FROM merge_keys) k USING (origin_product_no) "
            "LEFT JOIN products d USING (origin_product_no)",
            detail_text_md5=None,
        )
        self.con.unregister("merge_keys")
        return counts

    def _merge_products(self, source: str, *, detail_text_md5: str | None) -> UpsertCounts:
        """Make product rows from `source`, a FROM clause joining the listing `l` with detail
        fields `d`, and merge them. `detail_text_md5` is the expression in `source` for the md5
        of the row's DETAIL_TEXT_COLUMNS, or None to hash them from the row. Inside the caller's
        transaction."""
        started = time.perf_counter()
        select = ", ".join(f"{expr} AS {name}" for name, expr in _PRODUCT_FROM_LIST_AND_DETAIL.items())
        if detail_text_md5 is not None:
            select += f", {detail_text_md5} AS {DETAIL_TEXT_MD5_COLUMN}"
        self.con.execute("DROP TABLE IF EXISTS staged_products")
        self.con.execute(f"CREATE TEMP TABLE staged_products AS SELECT {select} FROM {source}")  # noqa: S608
        counts = merge_products(
            self.con, "staged_products",
            payload_hash_sql=payload_hash_sql(DETAIL_TEXT_MD5_COLUMN if detail_text_md5 is not None else None,
                                              postgres=is_postgres(self.con)),
        )
        return UpsertCounts(counts.inserted, counts.updated, counts.unchanged, time.perf_counter() - started)

    # -- errors -------------------------------------------------------------------------------

    def record_errors(self, run_id: str | None, errors: Sequence[SyncError]) -> None:
        if not errors:
            return
        self.con.executemany(
            "INSERT INTO sync_errors (run_id, origin_product_no, api, status, code, message, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, now())",
            [[run_id, e.origin_product_no, e.api, e.status, e.code, e.message] for e in errors],
        )

    # -- quarantine (resources/store/quarantine.py) ------------------------------------------

    def quarantine_ledger(self, now: datetime) -> QuarantineLedger:
        """The quarantined products, and which of them a sync starting `now` holds back."""
        return quarantine.read_ledger(self.con, now)

    def record_quarantine(self, failures: Sequence[QuarantineFailure], *, hold: bool, now: datetime) -> int:
        """Quarantine products that failed for good; return how many were not quarantined before."""
        return quarantine.record(self.con, failures, hold=hold, now=now)

    # -- reads ---------------------------------------------------------------------------------

    def count(self, table: str) -> int:
        if table not in {"product_list", "product_details", "products", "refresh_queue", "packages", "sync_errors",
                         "sync_quarantine", "catalog_products"}:
            raise ValueError(f"unknown table {table!r}")
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
