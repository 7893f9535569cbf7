"""The DuckDB store: schema, set-based upserts, the refresh queue."""

from . import refresh_queue
from .catalog_store import DELETED, CatalogStore, ListingWrite, SyncError
from .resource import DEFAULT_DATABASE_PATH, DuckDBStore
from .schema import migrate
from .upsert import PRODUCT_COLUMNS, UpsertCounts, upsert_products

__all__ = [
    "DEFAULT_DATABASE_PATH",
    "DELETED",
    "PRODUCT_COLUMNS",
    "CatalogStore",
    "DuckDBStore",
    "ListingWrite",
    "SyncError",
    "UpsertCounts",
    "migrate",
    "refresh_queue",
    "upsert_products",
]
