"""The catalog on Postgres, measured beside DuckDB in one process: the products upsert of 10k and
1M rows into an empty table on Postgres (COPY into staging, then INSERT ... ON CONFLICT ... WHERE
the hash differs), a bare COPY of the same rows into an empty table with the same columns and key
(no hash, no conflict handling: the floor of loading them at all), the DuckDB upsert of the same
rows into an empty file, and a no-change re-upsert on Postgres (which must write nothing).

The arms alternate (Postgres upsert, bare COPY, DuckDB upsert; again), each into a fresh table,
so a busy machine slows them alike and the ratios hold. The Postgres server is the scenario's own
(Debian's binaries, a temporary folder, fsync on: a real server's durability), on loopback.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from psycopg import sql

from benchmarks.scenarios.upsert import synthetic_products
from resources.store import DuckDBStore, PostgresStore, upsert_products
from resources.store.postgres.connection import copy_rows
from resources.store.postgres.store import close_pools
from resources.store.upsert import PRODUCT_COLUMNS
from tests.support.servers import postgres_bin_dir, postgres_server

_BARE_TABLE = "bare_products"


def run(params: dict[str, Any]) -> dict[str, Any]:
    """params: sizes (row counts, e.g. [10_000, 1_000_000]), repeats (per size: {rows: n})."""
    if postgres_bin_dir() is None:
        return {"error": "not run: no PostgreSQL binaries (apt-get install postgresql)"}
    sizes = [int(size) for size in params.get("sizes", [10_000])]
    repeats = {int(rows): int(count) for rows, count in params.get("repeats", {}).items()}
    with tempfile.TemporaryDirectory(prefix="bench-postgres-") as scratch, postgres_server(durable=True) as server:
        url = server.create_database("catalog")
        try:
            figures = {str(rows): _size(url, Path(scratch), synthetic_products(rows), repeats.get(rows, 3))
                       for rows in sizes}
        finally:
            close_pools()
    return {"upsert": figures, "postgres": {"durable": True, "server": "loopback, own cluster"}}


def _size(url: str, scratch: Path, rows: pa.Table, repeats: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"pg_upsert": [], "pg_bare_copy": [], "duckdb_upsert": [], "pg_no_change": []}
    for _ in range(repeats):
        store = PostgresStore(url=url, store_key=f"b{uuid.uuid4().hex[:10]}")
        samples["pg_upsert"].append(_pg_upsert(store, rows, samples["pg_no_change"]))
        samples["pg_bare_copy"].append(_bare_copy(store, rows))
        samples["duckdb_upsert"].append(_duckdb_upsert(scratch, rows))
        _drop_schema(store)
    median = {arm: statistics.median(values) for arm, values in samples.items()}
    return {
        "rows": rows.num_rows,
        "repeats": repeats,
        "seconds": {arm: round(value, 4) for arm, value in median.items()},
        "samples": {arm: [round(value, 4) for value in values] for arm, values in samples.items()},
        "pg_upsert_vs_bare_copy": round(median["pg_upsert"] / median["pg_bare_copy"], 3),
        "pg_upsert_vs_duckdb_upsert": round(median["pg_upsert"] / median["duckdb_upsert"], 3),
    }


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _pg_upsert(store: PostgresStore, rows: pa.Table, no_change: list[float]) -> float:
    """Our upsert into the fresh store's empty table, then the same rows again (nothing written)."""
    with store.connect() as catalog:
        counts, seconds = _timed(lambda: upsert_products(catalog.con, rows))
        assert counts.inserted == rows.num_rows, "a fresh upsert did not insert every row"
        again, again_seconds = _timed(lambda: upsert_products(catalog.con, rows))
        assert again.rows_written == 0 and again.unchanged == rows.num_rows, "a no-change upsert wrote rows"
    no_change.append(again_seconds)
    return seconds


def _bare_copy(store: PostgresStore, rows: pa.Table) -> float:
    """COPY of the same rows' columns into an empty table of the same columns and primary key."""
    with store.connect() as catalog:
        connection = catalog.con.connection
        connection.execute(sql.SQL("CREATE TABLE {} (LIKE products INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                                   "INCLUDING INDEXES)").format(sql.Identifier(_BARE_TABLE)))
        connection.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN payload_hash DROP NOT NULL, "
                                   "ALTER COLUMN first_seen_at DROP NOT NULL, ALTER COLUMN synced_at DROP NOT NULL")
                           .format(sql.Identifier(_BARE_TABLE)))
        table = rows.select(list(PRODUCT_COLUMNS))
        started = time.perf_counter()
        with connection.transaction(), connection.cursor() as cursor:
            copy_rows(cursor, _BARE_TABLE, table)
        seconds = time.perf_counter() - started
        (count,) = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(_BARE_TABLE))).fetchone()
    assert count == rows.num_rows, "the bare COPY lost rows"
    return seconds


def _duckdb_upsert(scratch: Path, rows: pa.Table) -> float:
    path = scratch / f"duck-{uuid.uuid4().hex[:8]}.duckdb"
    with DuckDBStore(database_path=str(path)).connect() as catalog:
        counts, seconds = _timed(lambda: upsert_products(catalog.con, rows))
    assert counts.inserted == rows.num_rows, "a fresh DuckDB upsert did not insert every row"
    path.unlink()
    return seconds


def _drop_schema(store: PostgresStore) -> None:
    with store.connect() as catalog:
        catalog.con.connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(
            sql.Identifier(f"store_{store.store_key}")))
