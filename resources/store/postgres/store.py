"""The catalog on Postgres as a Dagster resource: `CONTENT_DB_URL=postgresql://...` selects it.

One database for every store, a schema per store (schema.py); connections come from a pool per
database URL, one per process, shared by every resource made for that URL (a run, a sensor tick,
the sync's threads). Connections are in autocommit mode, the session time zone KST, as a DuckDB
store's are.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import conninfo, sql
from psycopg.types.numeric import Int8Dumper
from psycopg_pool import ConnectionPool, PoolTimeout

from resources.store.catalog_store import CatalogStore
from resources.store.resource import CatalogDatabase

from .connection import PgConnection
from .schema import migrate, schema_name

_POOLS: dict[str, ConnectionPool] = {}
_MIGRATED: set[tuple[str, str]] = set()
_LOCK = threading.Lock()


class CatalogUnavailableError(RuntimeError):
    """The catalog database cannot be reached; one line naming it (its password never)."""


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable database URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


def _configure(connection: psycopg.Connection) -> None:
    connection.autocommit = True
    # A Python int is a BIGINT, as DuckDB takes it (psycopg would pick the smallest type that fits,
    # and `generate_series(?, ?)` of two smallints has no single candidate).
    connection.adapters.register_dumper(int, Int8Dumper)
    # KST calendar days are what the API's date filters mean.
    connection.execute("SET TimeZone = 'Asia/Seoul'")


def _reset(connection: psycopg.Connection) -> None:
    connection.execute("DISCARD TEMP")  # staging tables of a statement that failed half way


def pool_for(url: str, max_size: int, open_timeout: float) -> ConnectionPool:
    with _LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            # No prepared statements: a staging table is made anew for each write, its column types
            # as the rows have them, and a statement prepared against the last one could not run.
            pool = ConnectionPool(url, min_size=1, max_size=max_size, open=False, configure=_configure,
                                  reset=_reset, kwargs={"prepare_threshold": None}, name="content-ops catalog")
            try:
                pool.open(wait=True, timeout=open_timeout)
            except PoolTimeout:
                pool.close()
                raise CatalogUnavailableError(
                    f"the catalog database {safe_url(url)} (CONTENT_DB_URL) cannot be reached within "
                    f"{open_timeout:.0f} s; "
                    "is Postgres running there, and does the database exist?") from None
            _POOLS[url] = pool
        return pool


def close_pools(url: str | None = None) -> None:
    """Close the pool of `url` (every pool if None), as a test does before dropping its database."""
    with _LOCK:
        for key in [url] if url else list(_POOLS):
            pool = _POOLS.pop(key, None)
            if pool is not None:
                pool.close()
            _MIGRATED.difference_update({done for done in _MIGRATED if done[0] == key})


atexit.register(close_pools)


class PostgresStore(CatalogDatabase):
    """The catalog of every store in one Postgres database, a schema per store."""

    url: str
    pool_size: int = 8
    # How long the first connection of a process may take (a server still starting is waited for).
    connect_timeout_seconds: float = 15.0

    def for_store(self, store_key: str) -> PostgresStore:
        return PostgresStore(url=self.url, store_key=store_key, pool_size=self.pool_size,
                             connect_timeout_seconds=self.connect_timeout_seconds)

    @property
    def location(self) -> str:
        return f"{safe_url(self.url)} schema {schema_name(self.store_key)}"

    @contextmanager
    def connect(self) -> Iterator[CatalogStore]:
        pool = pool_for(self.url, self.pool_size, self.connect_timeout_seconds)
        try:
            with pool.connection(timeout=60) as connection:
                if (self.url, self.store_key) not in _MIGRATED:
                    migrate(connection, self.store_key)
                    _MIGRATED.add((self.url, self.store_key))
                connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema_name(self.store_key))))
                yield CatalogStore(PgConnection(connection))
        except PoolTimeout:
            raise CatalogUnavailableError(
                f"no connection to the catalog database {safe_url(self.url)} within 60 s "
                f"(pool of {self.pool_size}, all busy or the server gone)") from None
