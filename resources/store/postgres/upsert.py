"""The products merge on Postgres: one `INSERT ... ON CONFLICT ... DO UPDATE ... WHERE` the payload
hash differs, from a staging table that COPY filled (PgConnection.register).

The same contract as DuckDB's merge (resources/store/upsert.py): new rows inserted, changed rows
updated with their first_seen_at kept, rows whose hash equals the stored one not written at all
(Postgres writes a new row version for every row an UPDATE touches, even to the same values: the
WHERE keeps a no-change sync from rewriting the table and bloating it). Postgres updates a row in
place of its key, so no delete-and-insert is needed here; `xmax = 0` tells an inserted row from an
updated one in RETURNING.
"""

from __future__ import annotations

import time

from resources.store.upsert import PRODUCT_COLUMNS, UpsertCounts


def merge(con, source: str, payload_hash_sql: str, skip_unchanged: bool) -> UpsertCounts:  # noqa: ANN001
    """Merge relation `source` (PRODUCT_COLUMNS, each key once) into `products`, inside the caller's
    transaction, as upsert.merge_products does on DuckDB."""
    started = time.perf_counter()
    (total,) = con.execute(f"SELECT count(*) FROM {source}").fetchone()  # noqa: S608 - internal names
    columns = ", ".join((*PRODUCT_COLUMNS, "payload_hash", "first_seen_at", "synced_at"))
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*PRODUCT_COLUMNS[1:], "payload_hash", "synced_at"))
    changed = "WHERE products.payload_hash IS DISTINCT FROM excluded.payload_hash" if skip_unchanged else ""
    # now() is the transaction's start: first_seen_at and synced_at agree.
    inserted, written = con.execute(
        f"""
        WITH written AS (
            INSERT INTO products ({columns})
            SELECT {", ".join(PRODUCT_COLUMNS)}, {payload_hash_sql}, now(), now() FROM {source}
            ON CONFLICT (origin_product_no) DO UPDATE SET {updates} {changed}
            RETURNING xmax = 0 AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FROM written
        """  # noqa: S608
    ).fetchone()
    return UpsertCounts(int(inserted), int(written - inserted), int(total - written), time.perf_counter() - started)
