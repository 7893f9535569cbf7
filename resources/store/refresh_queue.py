"""The refresh queue: products whose current version has no content package yet.

One row per product. A product is (re)enqueued when its payload hash differs from the hash its
queue row was made for, so enqueueing is idempotent and a re-run enqueues nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from . import claim_holder
from .postgres.connection import is_postgres
from .statuses import DELETED

PENDING, IN_PROGRESS, DONE, FAILED = "pending", "in_progress", "done", "failed"
# How long a claim holds when nobody can tell whether its holder still runs (another host).
LEASE_SECONDS = 1800.0


@dataclass(frozen=True)
class QueueItem:
    origin_product_no: int
    payload_hash: str
    reason: str
    attempts: int


@dataclass(frozen=True)
class EnqueueCounts:
    new: int
    changed: int

    @property
    def total(self) -> int:
        return self.new + self.changed


def enqueue_changed_products(con: duckdb.DuckDBPyConnection) -> EnqueueCounts:
    """Enqueue every live product whose current version is not what its queue row asks for."""
    rows = con.execute(
        f"""
        INSERT INTO refresh_queue (origin_product_no, payload_hash, reason, status, attempts, enqueued_at, updated_at)
        SELECT p.origin_product_no, p.payload_hash, 'new', '{PENDING}', 0, now(), now()
        FROM products p LEFT JOIN refresh_queue r USING (origin_product_no)
        WHERE p.status_type <> '{DELETED}' AND r.payload_hash IS DISTINCT FROM p.payload_hash
        ON CONFLICT (origin_product_no) DO UPDATE SET payload_hash = excluded.payload_hash, reason = 'changed',
            status = '{PENDING}', attempts = 0, last_error = NULL, enqueued_at = now(), updated_at = now()
        RETURNING reason
        """  # noqa: S608
    ).fetchall()
    new = sum(1 for (reason,) in rows if reason == "new")
    return EnqueueCounts(new=new, changed=len(rows) - new)


def gone_holders(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Holders of in_progress claims that no longer run (claim_holder.is_gone): their items are free."""
    rows = con.execute(
        f"SELECT DISTINCT claimed_by FROM refresh_queue WHERE status = '{IN_PROGRESS}' AND claimed_by IS NOT NULL"  # noqa: S608
    ).fetchall()
    return [holder for (holder,) in rows if claim_holder.is_gone(holder)]


def claimable(max_attempts: int, lease_seconds: float, gone: Sequence[str]) -> tuple[str, list[object]]:
    """The claimable-item predicate, as SQL with its parameters: pending items, failed ones with
    attempts left, and in_progress ones whose run died (its lease ran out, or its holder is gone).
    claim() takes these items; the refresh-queue sensor counts them."""
    sql = f"""(status = '{PENDING}'
               OR (status = '{FAILED}' AND attempts < ?)
               OR (status = '{IN_PROGRESS}' AND (updated_at < now() - to_seconds(?)
                                                  OR list_contains(?::VARCHAR[], claimed_by))))"""  # noqa: S608
    return sql, [max_attempts, lease_seconds, list(gone)]


def claim(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int | None = None,
    max_attempts: int = 3,
    lease_seconds: float = LEASE_SECONDS,
    holder: str | None = None,
) -> list[QueueItem]:
    """Mark up to `limit` claimable items in progress, held by `holder` (this process by default),
    and return them."""
    limit_sql = f"LIMIT {int(limit)}" if limit else ""
    # On Postgres several package runs (or workers) may claim at once: each skips the rows another
    # is claiming, so no item is claimed twice and nobody waits. DuckDB has one writer per file.
    skip_locked = "FOR UPDATE SKIP LOCKED" if is_postgres(con) else ""
    predicate, parameters = claimable(max_attempts, lease_seconds, gone_holders(con))
    rows = con.execute(
        f"""
        UPDATE refresh_queue SET status = '{IN_PROGRESS}', attempts = attempts + 1, claimed_by = ?, updated_at = now()
        WHERE origin_product_no IN (
            SELECT origin_product_no FROM refresh_queue
            WHERE {predicate}
            ORDER BY enqueued_at, origin_product_no
            {limit_sql}
            {skip_locked}
        )
        RETURNING origin_product_no, payload_hash, reason, attempts
        """,  # noqa: S608
        [holder or claim_holder.current_holder(), *parameters],
    ).fetchall()
    return sorted((QueueItem(*row) for row in rows), key=lambda item: item.origin_product_no)


def finish(
    con: duckdb.DuckDBPyConnection,
    done: Sequence[QueueItem],
    failed: Sequence[tuple[QueueItem, str]],
) -> None:
    """Close claimed items. An item re-enqueued meanwhile (new hash) stays pending."""
    outcome = pa.table(
        {
            "origin_product_no": pa.array(
                [i.origin_product_no for i in done] + [i.origin_product_no for i, _ in failed], pa.int64()
            ),
            "payload_hash": [i.payload_hash for i in done] + [i.payload_hash for i, _ in failed],
            "status": [DONE] * len(done) + [FAILED] * len(failed),
            "last_error": [None] * len(done) + [error[:2000] for _, error in failed],
        }
    )
    if outcome.num_rows == 0:
        return
    con.register("queue_outcome", outcome)
    con.execute(
        f"""
        UPDATE refresh_queue AS q SET status = o.status, last_error = o.last_error, updated_at = now()
        FROM queue_outcome o
        WHERE q.origin_product_no = o.origin_product_no AND q.payload_hash = o.payload_hash
          AND q.status = '{IN_PROGRESS}'
        """  # noqa: S608
    )
    con.unregister("queue_outcome")


def status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT status, count(*) FROM refresh_queue GROUP BY status").fetchall())


def failed_products(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Products whose item last ended failed: a run that fails them again finds nothing new."""
    rows = con.execute(f"SELECT origin_product_no FROM refresh_queue WHERE status = '{FAILED}'").fetchall()  # noqa: S608
    return {int(number) for (number,) in rows}
