"""The sync quarantine: products a sync cannot fetch for a reason retrying will not fix.

A product whose detail answers 404 while it is still listed, or breaks the contract, would
otherwise be fetched and counted again by every sync, and fail every sync that attempts little
else. It is recorded here once, with its reason and the listed modifiedDate it failed at, and
held back until that modifiedDate changes or its backoff (RETRY_BACKOFF) passes. A product whose
detail later arrives, or that turns DELETE, leaves the quarantine; so does a malformed listing
entry once it is listed whole.

The table (migration 6) is read by others too (the gallery, the data check, the run summary).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa

from .statuses import DELETED
from .upsert import replace_rows_sql

# How long a product is held after its 1st, 2nd, 3rd failure; then daily.
RETRY_BACKOFF: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))


def retry_delay(failures: int) -> timedelta:
    """How long a product that has now failed `failures` times (1 or more) is held back."""
    return RETRY_BACKOFF[min(max(failures, 1), len(RETRY_BACKOFF)) - 1]


@dataclass(frozen=True)
class QuarantineFailure:
    """One product that failed this run for a reason retrying will not fix."""

    origin_product_no: int
    api: str  # detail, or search for a listing entry that does not parse
    status: int | None
    code: str | None
    reason: str


@dataclass(frozen=True)
class QuarantineLedger:
    """The quarantine as a sync starts: what it holds back, and what was already known."""

    held: dict[int, int | None]  # held back now -> the modifiedDate (epoch us) it failed at
    known: frozenset[int]  # every quarantined product, held or due for another try

    def holds(self, origin_product_no: int, listed_modified_us: int | None) -> bool:
        """Not fetched: held back, and still listed with the modifiedDate it failed at."""
        return origin_product_no in self.held and self.held[origin_product_no] == listed_modified_us


EMPTY_LEDGER = QuarantineLedger({}, frozenset())


def read_ledger(con: duckdb.DuckDBPyConnection, now: datetime) -> QuarantineLedger:
    rows = con.execute(
        "SELECT origin_product_no, epoch_us(modified_date), retry_after > ? FROM sync_quarantine", [now]
    ).fetchall()
    return QuarantineLedger(
        held={number: modified_us for number, modified_us, holding in rows if holding},
        known=frozenset(number for number, _, _ in rows),
    )


_ROW_SCHEMA = pa.schema([
    ("origin_product_no", pa.int64()), ("api", pa.string()), ("status", pa.int32()), ("code", pa.string()),
    ("reason", pa.string()), ("failures", pa.int32()), ("first_failed_at", pa.timestamp("us", tz="UTC")),
    ("retry_after", pa.timestamp("us", tz="UTC")),
])


# A detail failed at the modifiedDate the list showed when it was asked for (as a fetched detail
# belongs to it); a listing entry that does not parse has none to trust. The parameter: now.
_RECORD = replace_rows_sql("sync_quarantine", "origin_product_no", {
    "origin_product_no": "r.origin_product_no",
    "modified_date": "CASE WHEN r.api = 'detail' THEN l.modified_date END",
    **{name: f"r.{name}" for name in ("api", "status", "code", "reason", "failures", "first_failed_at")},
    "last_failed_at": "?::TIMESTAMPTZ",
    "retry_after": "r.retry_after",
}, "quarantine_rows r LEFT JOIN product_list l USING (origin_product_no)")


def record(
    con: duckdb.DuckDBPyConnection, failures: Sequence[QuarantineFailure], *, hold: bool, now: datetime
) -> int:
    """Quarantine these products (or count one more failure); return how many were not quarantined
    before. `hold=False` records them without holding them back (retry_after = now): a run judged
    failed looks like an outage, not like poison products, so its failures are tried again at the
    next run, where they no longer count against its error threshold. Its own transaction."""
    latest = {failure.origin_product_no: failure for failure in failures}  # one row a product
    if not latest:
        return 0
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("quarantine_keys", pa.table({"origin_product_no": pa.array(list(latest), pa.int64())}))
        before = {number: (count, first) for number, count, first in con.execute(
            "SELECT origin_product_no, failures, first_failed_at FROM sync_quarantine "
            "WHERE origin_product_no IN (SELECT origin_product_no FROM quarantine_keys)"
        ).fetchall()}
        rows = []
        for number, failure in latest.items():
            count, first = before.get(number, (0, now))
            rows.append({**vars(failure), "failures": count + 1, "first_failed_at": first,
                         "retry_after": now + retry_delay(count + 1) if hold else now})
        con.register("quarantine_rows", pa.Table.from_pylist(rows, schema=_ROW_SCHEMA))
        con.execute(_RECORD, [now])
        con.unregister("quarantine_rows")
        con.unregister("quarantine_keys")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(latest) - len(before)


def release_fetched(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """The products of `relation` (an origin_product_no column) were fetched: they leave.
    Inside the caller's transaction."""
    con.execute(
        f"DELETE FROM sync_quarantine WHERE origin_product_no IN (SELECT origin_product_no FROM {relation})"  # noqa: S608
    )


def release_listed(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """Listing entries of `relation` that parsed: a malformed entry listed whole again leaves, and
    so does a product now DELETE (nothing left to fetch). Inside the caller's transaction."""
    con.execute(
        f"""
        DELETE FROM sync_quarantine
        WHERE origin_product_no IN (SELECT origin_product_no FROM {relation} WHERE status_type = '{DELETED}')
           OR (api = 'search' AND origin_product_no IN (SELECT origin_product_no FROM {relation}))
        """  # noqa: S608
    )


def summary(con: duckdb.DuckDBPyConnection, limit: int = 50) -> tuple[int, list[tuple]]:
    """How many products are quarantined, and up to `limit` of them, the newest failures first:
    (origin_product_no, api, status, code, reason, failures, last_failed_at, retry_after)."""
    total = con.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0]
    rows = con.execute(
        """
        SELECT origin_product_no, api, status, code, reason, failures, last_failed_at, retry_after
        FROM sync_quarantine ORDER BY last_failed_at DESC, origin_product_no LIMIT ?
        """,
        [limit],
    ).fetchall()
    return int(total), rows
