"""The DuckDB store: schema, set-based upserts, the refresh queue."""

from . import quarantine, refresh_queue
from .catalog_store import DELETED, CatalogStore, ListingWrite, SyncError
from .quarantine import QuarantineFailure, QuarantineLedger
from .resource import DEFAULT_DATABASE_PATH, DatabaseLockedError, DuckDBStore
from .schema import migrate
from .upsert import PRODUCT_COLUMNS, UpsertCounts, upsert_products

__all__ = [
    "DEFAULT_DATABASE_PATH",
    "DELETED",
    "PRODUCT_COLUMNS",
    "CatalogStore",
    "DatabaseLockedError",
    "DuckDBStore",
    "ListingWrite",
    "QuarantineFailure",
    "QuarantineLedger",
    "SyncError",
    "UpsertCounts",
    "migrate",
    "quarantine",
    "refresh_queue",
    "upsert_products",
]
