"""The catalog store: schema, set-based upserts, the refresh queue; on DuckDB or on Postgres."""

from . import quarantine, refresh_queue
from .catalog_store import DELETED, CatalogStore, ListingWrite, SyncError
from .quarantine import QuarantineFailure, QuarantineLedger
from .numbers import DetailLedger, NumberQueue, NumberSet
from .postgres.store import CatalogUnavailableError, PostgresStore
from .resource import DEFAULT_DATABASE_PATH, CatalogDatabase, DatabaseLockedError, DuckDBStore
from .schema import migrate
from .upsert import PRODUCT_COLUMNS, UpsertCounts, upsert_products

__all__ = [
    "DEFAULT_DATABASE_PATH",
    "DELETED",
    "PRODUCT_COLUMNS",
    "CatalogDatabase",
    "CatalogStore",
    "CatalogUnavailableError",
    "DatabaseLockedError",
    "DetailLedger",
    "DuckDBStore",
    "ListingWrite",
    "NumberQueue",
    "NumberSet",
    "PostgresStore",
    "QuarantineFailure",
    "QuarantineLedger",
    "SyncError",
    "UpsertCounts",
    "migrate",
    "quarantine",
    "refresh_queue",
    "upsert_products",
]
