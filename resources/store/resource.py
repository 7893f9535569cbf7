"""The DuckDB store as a Dagster resource: one database file, schema ensured on open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from .catalog_store import CatalogStore
from .schema import migrate

DEFAULT_DATABASE_PATH = "data/content_ops.duckdb"


class DuckDBStore(dg.ConfigurableResource):
    """The local copy of the catalog. Path from `CONTENT_DB_PATH`."""

    database_path: str = DEFAULT_DATABASE_PATH
    # DuckDB's own default is 80% of RAM, and it keeps what it wrote resident up to that; a sync
    # needs little, and what does not fit spills to disk.
    memory_limit: str = "128MB"

    @contextmanager
    def connect(self) -> Iterator[CatalogStore]:
        path = Path(self.database_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path))
        try:
            # KST calendar days are what the API's date filters mean.
            con.execute("SET TimeZone = 'Asia/Seoul'")
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            # Hand freed memory back to the OS soon, and skip order bookkeeping no query needs.
            con.execute("SET allocator_flush_threshold = '16MB'")
            con.execute("SET preserve_insertion_order = false")
            migrate(con)
            yield CatalogStore(con)
        finally:
            con.close()
