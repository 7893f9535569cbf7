"""The catalog's schema on Postgres: one schema per store (`store_<key>`), holding the same tables,
columns and view as a store's DuckDB file after its migrations (resources/store/schema.py), and the
few DuckDB functions the store's SQL calls, defined in SQL.

A store's schema is its DuckDB file: its own tables, its own migrations, its own stamp, so stores
never share a row, a lock or a migration, and a store is dropped with its schema. Every table has
the `store_key` column its DuckDB twin has, so the rows of several stores can be put side by side
(`UNION ALL` of the schemas) as they are.

Append only, as there: a migration, once released, never changes. Postgres's first migration is the
schema DuckDB's migrations 1-9 reach; a migration added there is added here too, in this dialect.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from resources.store.schema import WrongStoreError

SCHEMA_PREFIX = "store_"

# DuckDB's built-ins the store's SQL uses, in Postgres, in every store's schema.
_COMPATIBILITY = """
CREATE OR REPLACE FUNCTION epoch_us(ts TIMESTAMPTZ) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (extract(epoch FROM ts) * 1000000)::BIGINT $$;
CREATE OR REPLACE FUNCTION to_seconds(seconds DOUBLE PRECISION) RETURNS INTERVAL
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT make_interval(secs => seconds) $$;
CREATE OR REPLACE FUNCTION list_contains(items ANYARRAY, item ANYELEMENT) RETURNS BOOLEAN
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(item = ANY(items), false) $$;
"""

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        _COMPATIBILITY + """
        CREATE TABLE product_list (
            origin_product_no BIGINT PRIMARY KEY,
            channel_product_no BIGINT,
            seller_management_code VARCHAR,
            name VARCHAR NOT NULL,
            status_type VARCHAR NOT NULL,
            display_status VARCHAR,
            sale_price BIGINT,
            discounted_price BIGINT,
            stock_quantity BIGINT,
            representative_image_url VARCHAR,
            seller_tags VARCHAR[],
            category VARCHAR,
            brand_name VARCHAR,
            manufacturer_name VARCHAR,
            reg_date TIMESTAMPTZ,
            modified_date TIMESTAMPTZ NOT NULL,
            channel_count INTEGER,
            listed_at TIMESTAMPTZ NOT NULL,
            store_key VARCHAR DEFAULT {store}
        );
        CREATE TABLE product_details (
            origin_product_no BIGINT PRIMARY KEY,
            modified_date TIMESTAMPTZ NOT NULL,  -- the list's modifiedDate this detail belongs to
            fetched_at TIMESTAMPTZ NOT NULL,
            store_key VARCHAR DEFAULT {store}
        );
        CREATE TABLE products (
            origin_product_no BIGINT PRIMARY KEY,
            channel_product_no BIGINT,
            seller_management_code VARCHAR,
            name VARCHAR NOT NULL,
            status_type VARCHAR NOT NULL,
            sale_price BIGINT,
            discounted_price BIGINT,
            stock_quantity BIGINT,
            representative_image_url VARCHAR,
            modified_date TIMESTAMPTZ NOT NULL,
            category VARCHAR,
            brand_name VARCHAR,
            manufacturer_name VARCHAR,
            model_name VARCHAR,
            seller_tags VARCHAR[],
            image_urls VARCHAR[],
            detail_content VARCHAR,
            page_title VARCHAR,
            meta_description VARCHAR,
            payload_hash VARCHAR NOT NULL,
            first_seen_at TIMESTAMPTZ NOT NULL,
            synced_at TIMESTAMPTZ NOT NULL,
            store_key VARCHAR DEFAULT {store}
        );
        CREATE TABLE refresh_queue (
            origin_product_no BIGINT PRIMARY KEY,
            payload_hash VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            status VARCHAR NOT NULL CHECK (status IN ('pending', 'in_progress', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error VARCHAR,
            enqueued_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            claimed_by VARCHAR,
            store_key VARCHAR DEFAULT {store}
        );
        -- What a package run claims: the claimable items in their order (refresh_queue.claim).
        CREATE INDEX refresh_queue_claimable ON refresh_queue (status, enqueued_at, origin_product_no);
        CREATE TABLE packages (
            origin_product_no BIGINT NOT NULL,
            variant VARCHAR NOT NULL,
            path VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL,
            built_at TIMESTAMPTZ NOT NULL,
            template_name VARCHAR,
            template_version VARCHAR,
            settings_hash VARCHAR,
            image_count INTEGER,
            keyframe_count INTEGER,
            video_status VARCHAR,
            video_error VARCHAR,
            missing_images INTEGER DEFAULT 0,
            missing_image_reasons VARCHAR,
            missing_retry_at TIMESTAMPTZ,
            store_key VARCHAR DEFAULT {store},
            PRIMARY KEY (origin_product_no, variant)
        );
        CREATE TABLE package_images (
            origin_product_no BIGINT NOT NULL,
            variant VARCHAR NOT NULL,
            file VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            phash VARCHAR NOT NULL,
            source_url VARCHAR,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            size_bytes BIGINT NOT NULL,
            store_key VARCHAR DEFAULT {store},
            PRIMARY KEY (origin_product_no, variant, file)
        );
        CREATE TABLE sync_errors (
            run_id VARCHAR,
            origin_product_no BIGINT,
            api VARCHAR NOT NULL,
            status INTEGER,
            code VARCHAR,
            message VARCHAR NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL,
            store_key VARCHAR DEFAULT {store}
        );
        CREATE TABLE sync_quarantine (
            origin_product_no BIGINT PRIMARY KEY,
            modified_date TIMESTAMPTZ,
            api VARCHAR NOT NULL,
            status INTEGER,
            code VARCHAR,
            reason VARCHAR NOT NULL,
            failures INTEGER NOT NULL,
            first_failed_at TIMESTAMPTZ NOT NULL,
            last_failed_at TIMESTAMPTZ NOT NULL,
            retry_after TIMESTAMPTZ NOT NULL,
            store_key VARCHAR DEFAULT {store}
        );
        CREATE TABLE sync_cursor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            synced_from DATE NOT NULL,
            run_id VARCHAR,
            full_refresh BOOLEAN NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            store_key VARCHAR DEFAULT {store}
        );
        CREATE VIEW catalog_products AS
        SELECT p.origin_product_no, p.channel_product_no, p.seller_management_code, p.name, p.status_type,
               p.sale_price, p.discounted_price, p.stock_quantity, p.representative_image_url, p.modified_date,
               p.category, p.brand_name, p.manufacturer_name, p.model_name, p.seller_tags, p.image_urls,
               p.detail_content, p.page_title, p.meta_description,
               CASE WHEN q.origin_product_no IS NULL THEN 'synced' ELSE 'quarantined' END AS detail_status,
               q.reason AS quarantine_reason
        FROM products p LEFT JOIN sync_quarantine q USING (origin_product_no)
        UNION ALL
        SELECT l.origin_product_no, l.channel_product_no, l.seller_management_code, l.name, l.status_type,
               l.sale_price, l.discounted_price, l.stock_quantity, l.representative_image_url, l.modified_date,
               l.category, l.brand_name, l.manufacturer_name, NULL, l.seller_tags, ARRAY[l.representative_image_url],
               NULL, NULL, NULL,
               'listing_only', q.reason
        FROM sync_quarantine q JOIN product_list l USING (origin_product_no)
        WHERE l.origin_product_no NOT IN (SELECT origin_product_no FROM products);
        """,
    ),
)


def schema_name(store_key: str) -> str:
    return SCHEMA_PREFIX + store_key


def migrate(connection: psycopg.Connection, store_key: str) -> list[int]:
    """Create the store's schema and apply every migration not yet applied, in one transaction held
    under an advisory lock (two runs opening a new store at once do it once); stamp the schema as
    `store_key`'s. Leaves the connection's search_path on the schema. Returns the versions applied."""
    schema = sql.Identifier(schema_name(store_key))
    store = sql.Literal(store_key)
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [schema_name(store_key)])
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        connection.execute(sql.SQL("SET search_path TO {}").format(schema))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                           "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
        connection.execute("CREATE TABLE IF NOT EXISTS catalog_store "
                           "(store_key VARCHAR NOT NULL, stamped_at TIMESTAMPTZ NOT NULL)")
        stamped = connection.execute("SELECT store_key FROM catalog_store").fetchone()
        if stamped is not None and stamped[0] != store_key:
            raise WrongStoreError(f"the schema {schema_name(store_key)} belongs to store {stamped[0]!r}, "
                                  f"not {store_key!r}")
        if stamped is None:
            connection.execute("INSERT INTO catalog_store VALUES (%s, now())", [store_key])
        applied = {version for (version,) in connection.execute("SELECT version FROM schema_migrations")}
        done = []
        for version, ddl in MIGRATIONS:
            if version in applied:
                continue
            connection.execute(sql.SQL(ddl).format(store=store))
            connection.execute("INSERT INTO schema_migrations VALUES (%s, now())", [version])
            done.append(version)
    return done
