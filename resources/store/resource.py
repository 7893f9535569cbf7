"""The catalog as a Dagster resource: `CatalogDatabase`, what every asset, check and sensor takes,
and its embedded form `DuckDBStore` (a DuckDB file per store, schema ensured on open). The other
form, Postgres, is resources/store/postgres/store.py."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from resources.commerce_api.registry import DEFAULT_STORE

from .catalog_store import CatalogStore
from .schema import migrate

DEFAULT_DATABASE_PATH = "data/content_ops.duckdb"
# What DuckDB says when another process has the file open for writing.
_LOCK_MESSAGES = ("Could not set lock on file", "Conflicting lock")
_LOCK_POLL_SECONDS = 0.25


class DatabaseLockedError(duckdb.IOException):
    """Another program holds the DuckDB file (a SQL tool left open on it, a run of another
    instance). Still a duckdb.IOException, so callers that skip a tick on one keep working;
    `str()` is one line naming the file, the holder when DuckDB says it, and what to do."""

    def __init__(self, path: Path, duckdb_message: str, waited_seconds: float) -> None:
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", duckdb_message)
        by = f" ({holder.group(1)}, PID {holder.group(2)})" if holder else ""
        super().__init__(
            f"the DuckDB file {path} is held by another program{by}, still after {waited_seconds:.0f} s; "
            "close it there (a SQL tool with the file open?) and run again")
        self.path = path
        self.holder_pid = int(holder.group(2)) if holder else None


def is_lock_conflict(exc: duckdb.Error) -> bool:
    return any(text in str(exc) for text in _LOCK_MESSAGES)


def store_database_path(database_path: str | Path, store_key: str) -> Path:
    """A store's DuckDB file: `CONTENT_DB_PATH` itself for store `default` (the single store of old,
    so its file stays where it was), `stores/<key>.duckdb` beside it for any other store."""
    path = Path(database_path)
    return path if store_key == DEFAULT_STORE else path.parent / "stores" / f"{store_key}.duckdb"


class CatalogDatabase(dg.ConfigurableResource):
    """Where the stores' catalogs live. `for_store(key)` is the same database for one store;
    `connect()` opens that store's catalog (migrated, stamped as the store's) as a CatalogStore."""

    store_key: str = DEFAULT_STORE

    def for_store(self, store_key: str) -> CatalogDatabase:
        raise NotImplementedError

    @property
    def location(self) -> str:
        """Where the store's catalog is, for messages (never a password)."""
        raise NotImplementedError

    @contextmanager
    def connect(self) -> Iterator[CatalogStore]:
        raise NotImplementedError
        yield


class DuckDBStore(CatalogDatabase):
    """The local copy of the catalog: a DuckDB file per store (DuckDB lets one process write a file,
    so stores sync in parallel only if each has its own). Path from `CONTENT_DB_PATH`."""

    database_path: str = DEFAULT_DATABASE_PATH
    # DuckDB's own default is 80% of RAM, and it keeps what it wrote resident up to that; a sync
    # needs little, and what does not fit spills to disk. A 100,000-product sync peaked at 476 MB
    # with 128MB, 430 MB with 64MB and 402 MB with 32MB, its write seconds no worse (the spikes are
    # rows appended since the last checkpoint, held up to the limit).
    memory_limit: str = "32MB"
    # A program that has the file open only for a moment (a quick query) is waited for this long.
    lock_wait_seconds: float = 3.0

    def for_store(self, store_key: str) -> DuckDBStore:
        """The same settings, for `store_key`'s catalog."""
        return DuckDBStore(database_path=self.database_path, store_key=store_key,
                           memory_limit=self.memory_limit, lock_wait_seconds=self.lock_wait_seconds)

    @property
    def path(self) -> Path:
        return store_database_path(self.database_path, self.store_key)

    @property
    def location(self) -> str:
        return str(self.path)

    @contextmanager
    def connect(self) -> Iterator[CatalogStore]:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(path)
        try:
            # KST calendar days are what the API's date filters mean.
            con.execute("SET TimeZone = 'Asia/Seoul'")
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            # Hand freed memory back to the OS soon, and skip order bookkeeping no query needs.
            con.execute("SET allocator_flush_threshold = '16MB'")
            con.execute("SET preserve_insertion_order = false")
            migrate(con, self.store_key)
            yield CatalogStore(con)
        finally:
            con.close()

    def _open(self, path: Path) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting a little for another program's lock before giving up in one line."""
        started = time.monotonic()
        while True:
            try:
                return duckdb.connect(str(path))
            except duckdb.IOException as exc:
                waited = time.monotonic() - started
                if not is_lock_conflict(exc):
                    raise
                if waited >= self.lock_wait_seconds:
                    raise DatabaseLockedError(path, str(exc), waited) from None
                time.sleep(_LOCK_POLL_SECONDS)
