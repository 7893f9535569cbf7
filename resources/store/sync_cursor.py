"""The store's sync cursor: the KST day its last complete sync started on.

The search filters by whole KST days of `modifiedDate` (the contract, section 4), so the cursor
is a day: the next sync lists from that day through today. The day is listed again on purpose:
products edited after the last sync's listing passed them still fall on it, and what did not
change costs one listing entry and no detail call (the sync skips it by modifiedDate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from .statuses import DELETED


@dataclass(frozen=True)
class SyncCursor:
    synced_from: date
    run_id: str | None
    full_refresh: bool
    updated_at: datetime


def read_cursor(con: duckdb.DuckDBPyConnection) -> SyncCursor | None:
    row = con.execute("SELECT synced_from, run_id, full_refresh, updated_at FROM sync_cursor").fetchone()
    return SyncCursor(*row) if row else None


def advance_cursor(con: duckdb.DuckDBPyConnection, synced_from: date, run_id: str | None, *, full_refresh: bool) -> None:
    """Record a complete sync: the next one lists from `synced_from` (which may be earlier than the
    cursor was: a product listed by a full refresh that still could not be synced)."""
    con.execute(
        """
        INSERT INTO sync_cursor (id, synced_from, run_id, full_refresh, updated_at) VALUES (1, ?, ?, ?, now())
        ON CONFLICT (id) DO UPDATE SET synced_from = excluded.synced_from,
            run_id = excluded.run_id, full_refresh = excluded.full_refresh, updated_at = excluded.updated_at
        """,
        [synced_from, run_id, full_refresh],
    )


def oldest_unsynced_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The KST day of the oldest listed product whose detail for that listing is not stored (it
    failed, or is quarantined): an incremental sync must list from there to try it again."""
    row = con.execute(
        f"""
        SELECT min(l.modified_date)::DATE FROM product_list l
        LEFT JOIN product_details d USING (origin_product_no)
        WHERE l.status_type <> '{DELETED}' AND (d.origin_product_no IS NULL OR d.modified_date <> l.modified_date)
        """  # noqa: S608 - a constant
    ).fetchone()
    return row[0] if row else None
