"""Set-based upsert of products: one MERGE per chunk, inside one transaction, unchanged rows skipped.

A row is unchanged when its payload hash (md5 of the product's columns as canonical JSON) equals
the stored one; such rows are not written at all, so a no-change sync writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

# The columns a product row carries besides its bookkeeping (hash and timestamps).
PRODUCT_COLUMNS: tuple[str, ...] = (
    "origin_product_no",
    "channel_product_no",
    "seller_management_code",
    "name",
    "status_type",
    "sale_price",
    "discounted_price",
    "stock_quantity",
    "representative_image_url",
    "modified_date",
    "category",
    "brand_name",
    "manufacturer_name",
    "model_name",
    "seller_tags",
    "image_urls",
    "detail_content",
    "page_title",
    "meta_description",
)

# md5 is stable across DuckDB versions (hash() is not); to_json keeps key order and NULLs apart.
PAYLOAD_HASH_SQL = "md5(to_json(struct_pack({fields}))::VARCHAR)".format(
    fields=", ".join(f"{c} := {c}" for c in PRODUCT_COLUMNS if c != "origin_product_no")
)


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0

    @property
    def rows_written(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.seconds + other.seconds,
        )


def merge_products(con: duckdb.DuckDBPyConnection, source: str, *, skip_unchanged: bool = True) -> UpsertCounts:
    """MERGE relation `source` (PRODUCT_COLUMNS + payload_hash + synced_at) into `products`.

    `source` must hold each origin_product_no once. Runs inside the caller's transaction.
    """
    started = time.perf_counter()
    total = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]  # noqa: S608 - internal names
    assignments = ", ".join(f"{c} = s.{c}" for c in PRODUCT_COLUMNS if c != "origin_product_no")
    insert_columns = ", ".join((*PRODUCT_COLUMNS, "payload_hash", "first_seen_at", "synced_at"))
    insert_values = ", ".join((*(f"s.{c}" for c in PRODUCT_COLUMNS), "s.payload_hash", "s.synced_at", "s.synced_at"))
    changed = "AND t.payload_hash IS DISTINCT FROM s.payload_hash" if skip_unchanged else ""
    actions = con.execute(
        f"""
        MERGE INTO products AS t USING {source} AS s
        ON t.origin_product_no = s.origin_product_no
        WHEN MATCHED {changed} THEN UPDATE SET {assignments}, payload_hash = s.payload_hash, synced_at = s.synced_at
        WHEN NOT MATCHED THEN INSERT ({insert_columns}) VALUES ({insert_values})
        RETURNING merge_action
        """  # noqa: S608
    ).fetchnumpy()["merge_action"]
    kinds, numbers = np.unique(actions.astype(str), return_counts=True) if len(actions) else ((), ())
    counted = dict(zip(kinds, numbers))
    inserted = int(counted.get("INSERT", 0))
    updated = int(counted.get("UPDATE", 0))
    return UpsertCounts(inserted, updated, total - inserted - updated, time.perf_counter() - started)


def upsert_products(
    con: duckdb.DuckDBPyConnection,
    rows: pa.Table | Any,
    *,
    chunk_rows: int = 250_000,
    skip_unchanged: bool = True,
) -> UpsertCounts:
    """Upsert a frame or Arrow table of product rows; hashes are computed here when absent.

    The whole batch is one transaction: it lands entirely or not at all.
    """
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_pandas(rows, preserve_index=False)
    counts = UpsertCounts()
    con.execute("BEGIN TRANSACTION")
    try:
        for offset in range(0, max(table.num_rows, 1), chunk_rows):
            chunk = table.slice(offset, chunk_rows)
            if chunk.num_rows == 0:
                break
            con.register("incoming_products_raw", chunk)
            has_hash = "payload_hash" in chunk.column_names
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE incoming_products AS
                SELECT {", ".join(PRODUCT_COLUMNS)},
                       {"payload_hash" if has_hash else PAYLOAD_HASH_SQL} AS payload_hash,
                       now() AS synced_at
                FROM incoming_products_raw
                QUALIFY row_number() OVER (PARTITION BY origin_product_no) = 1
                """  # noqa: S608
            )
            con.unregister("incoming_products_raw")
            counts += merge_products(con, "incoming_products", skip_unchanged=skip_unchanged)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts
