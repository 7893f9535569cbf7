"""Product status values the store's SQL compares with; a module of its own so every store module
(catalog_store imports quarantine) can import them without a cycle."""

DELETED = "DELETE"
