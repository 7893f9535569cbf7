"""The DuckDB schema, created and migrated idempotently (each migration runs once, in order)."""

from __future__ import annotations

import duckdb

from resources.commerce_api.registry import DEFAULT_STORE  # the store of a catalog made before there were many

# Append only: a migration, once released, never changes.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
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
            listed_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE product_details (
            origin_product_no BIGINT PRIMARY KEY,
            modified_date TIMESTAMPTZ NOT NULL,  -- the list's modifiedDate this detail belongs to
            name VARCHAR NOT NULL,
            status_type VARCHAR,
            sale_price BIGINT,
            stock_quantity BIGINT,
            detail_content VARCHAR,
            image_urls VARCHAR[],
            seller_tags VARCHAR[],
            seller_management_code VARCHAR,
            seller_barcode VARCHAR,
            brand_name VARCHAR,
            manufacturer_name VARCHAR,
            model_name VARCHAR,
            page_title VARCHAR,
            meta_description VARCHAR,
            channel_product_name VARCHAR,
            fetched_at TIMESTAMPTZ NOT NULL
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
            synced_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE refresh_queue (
            origin_product_no BIGINT PRIMARY KEY,
            payload_hash VARCHAR NOT NULL,  -- the product version this item asks content for
            reason VARCHAR NOT NULL,        -- new | changed
            status VARCHAR NOT NULL CHECK (status IN ('pending', 'in_progress', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error VARCHAR,
            enqueued_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE packages (
            origin_product_no BIGINT NOT NULL,
            variant VARCHAR NOT NULL,
            path VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL,
            built_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (origin_product_no, variant)
        );
        CREATE TABLE sync_errors (
            run_id VARCHAR,
            origin_product_no BIGINT,
            api VARCHAR NOT NULL,
            status INTEGER,
            code VARCHAR,
            message VARCHAR NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
    (
        2,
        # Packages record what built them (so a changed template or setting finds its stale
        # packages) and their pictures' perceptual hashes (for the repeated-pictures report).
        """
        ALTER TABLE packages ADD COLUMN template_name VARCHAR;
        ALTER TABLE packages ADD COLUMN template_version VARCHAR;
        ALTER TABLE packages ADD COLUMN settings_hash VARCHAR;
        ALTER TABLE packages ADD COLUMN image_count INTEGER;
        ALTER TABLE packages ADD COLUMN keyframe_count INTEGER;
        ALTER TABLE packages ADD COLUMN video_status VARCHAR;
        ALTER TABLE packages ADD COLUMN video_error VARCHAR;
        CREATE TABLE package_images (
            origin_product_no BIGINT NOT NULL,
            variant VARCHAR NOT NULL,
            file VARCHAR NOT NULL,          -- images/01.jpg, keyframes/01.jpg
            sha256 VARCHAR NOT NULL,        -- of the normalized picture
            phash VARCHAR NOT NULL,         -- 64-bit perceptual hash, hex
            source_url VARCHAR,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            size_bytes BIGINT NOT NULL,
            PRIMARY KEY (origin_product_no, variant, file)
        );
        """,
    ),
    (
        3,
        # product_details becomes the fetch ledger: which listed version each stored detail
        # belongs to. Its content lives once, in products (it was held twice).
        """
        CREATE TABLE product_details_ledger (
            origin_product_no BIGINT PRIMARY KEY,
            modified_date TIMESTAMPTZ NOT NULL,  -- the list's modifiedDate this detail belongs to
            fetched_at TIMESTAMPTZ NOT NULL
        );
        INSERT INTO product_details_ledger SELECT origin_product_no, modified_date, fetched_at FROM product_details;
        DROP TABLE product_details;
        ALTER TABLE product_details_ledger RENAME TO product_details;
        """,
    ),
    (
        4,
        # Seller HTML is ~1.5 KB a row and unique per product: DuckDB's automatic string
        # compression (dictionary + FSST) spent about as long on this one column as on the rest of
        # the row. ZSTD writes it ~3x faster and ~2.4x smaller (measured on 200k rows of non-
        # repeating HTML text: 2.4 s / 95 MB against 6.7 s / 224 MB). A column's compression is
        # fixed when the table is created, so products is rebuilt, columns and order unchanged.
        # (DuckDB 1.4 accepts the clause and stores the column uncompressed.)
        """
        CREATE TABLE products_rebuilt (
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
            detail_content VARCHAR USING COMPRESSION zstd,
            page_title VARCHAR,
            meta_description VARCHAR,
            payload_hash VARCHAR NOT NULL,
            first_seen_at TIMESTAMPTZ NOT NULL,
            synced_at TIMESTAMPTZ NOT NULL
        );
        INSERT INTO products_rebuilt SELECT * FROM products;
        DROP TABLE products;
        ALTER TABLE products_rebuilt RENAME TO products;
        """,
    ),
    (
        5,
        # The payload hash takes the detail's text columns (name, model name, image URLs, seller
        # HTML, page title, meta description) by one md5 of their own, which a sync computes as it
        # builds the row, not again in the write: every stored hash is recomputed, and a queue item
        # asking for a product's current version is pointed at its new hash, so nothing is
        # enqueued again.
        """
        CREATE TEMP TABLE rehashed_products AS
        SELECT origin_product_no, payload_hash AS old_hash,
               md5(concat_ws(chr(31),
                   coalesce(channel_product_no::VARCHAR, chr(0)), coalesce(seller_management_code::VARCHAR, chr(0)),
                   coalesce(status_type::VARCHAR, chr(0)), coalesce(sale_price::VARCHAR, chr(0)),
                   coalesce(discounted_price::VARCHAR, chr(0)), coalesce(stock_quantity::VARCHAR, chr(0)),
                   coalesce(representative_image_url::VARCHAR, chr(0)),
                   coalesce(epoch_us(modified_date)::VARCHAR, chr(0)), coalesce(category::VARCHAR, chr(0)),
                   coalesce(brand_name::VARCHAR, chr(0)), coalesce(manufacturer_name::VARCHAR, chr(0)),
                   coalesce(array_to_string(seller_tags, chr(30)), chr(0)),
                   coalesce(md5(concat_ws(chr(31),
                       coalesce(name::VARCHAR, chr(0)), coalesce(model_name::VARCHAR, chr(0)),
                       coalesce(array_to_string(image_urls, chr(30)), chr(0)),
                       coalesce(detail_content::VARCHAR, chr(0)), coalesce(page_title::VARCHAR, chr(0)),
                       coalesce(meta_description::VARCHAR, chr(0))
                   )), chr(0))
               )) AS new_hash
        FROM products;
        UPDATE refresh_queue AS q SET payload_hash = r.new_hash
        FROM rehashed_products AS r
        WHERE q.origin_product_no = r.origin_product_no AND q.payload_hash = r.old_hash;
        UPDATE products AS p SET payload_hash = r.new_hash
        FROM rehashed_products AS r
        WHERE p.origin_product_no = r.origin_product_no;
        DROP TABLE rehashed_products;
        """,
    ),
    (
        6,
        # Products a sync cannot fetch for a reason retrying will not fix (404 while listed, a
        # detail or listing entry that breaks the contract) are held here, one row each, until
        # their listed modifiedDate changes or retry_after passes (resources/store/quarantine.py).
        # products keeps only products with a detail (what packages are built from); the view
        # catalog_products is the whole catalog: products, plus quarantined products made from
        # their listing alone, each with its detail_status (synced, quarantined: an older
        # detail is kept, listing_only: none yet).
        """
        CREATE TABLE sync_quarantine (
            origin_product_no BIGINT PRIMARY KEY,
            modified_date TIMESTAMPTZ,        -- the listed modifiedDate it failed at; NULL if unparseable
            api VARCHAR NOT NULL,             -- detail | search (a malformed listing entry)
            status INTEGER,
            code VARCHAR,
            reason VARCHAR NOT NULL,
            failures INTEGER NOT NULL,
            first_failed_at TIMESTAMPTZ NOT NULL,
            last_failed_at TIMESTAMPTZ NOT NULL,
            retry_after TIMESTAMPTZ NOT NULL
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
               l.category, l.brand_name, l.manufacturer_name, NULL, l.seller_tags, [l.representative_image_url],
               NULL, NULL, NULL,
               'listing_only', q.reason
        FROM sync_quarantine q JOIN product_list l USING (origin_product_no)
        WHERE l.origin_product_no NOT IN (SELECT origin_product_no FROM products);
        """,
    ),
    (
        7,
        # A package built without pictures that failed (404, not an image, too big, ...) says
        # which and why, and when the first of them is tried again: once that time has passed the
        # package is stale (resources/store/package_records.py owns that rule).
        """
        ALTER TABLE packages ADD COLUMN missing_images INTEGER DEFAULT 0;
        ALTER TABLE packages ADD COLUMN missing_image_reasons VARCHAR;  -- JSON: [{position, sourceUrl, reason}]
        ALTER TABLE packages ADD COLUMN missing_retry_at TIMESTAMPTZ;
        """,
    ),
    (
        8,
        # Who holds an in_progress claim (resources/store/claim_holder.py): a package run killed
        # outright frees its items as soon as another run sees that it no longer runs, instead of
        # after the 30-minute lease.
        """
        ALTER TABLE refresh_queue ADD COLUMN claimed_by VARCHAR;
        """,
    ),
    (
        9,
        # How far the store is synced (resources/store/sync_cursor.py): the next sync lists from
        # that KST day on, not the whole catalog.
        """
        CREATE TABLE sync_cursor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            synced_from DATE NOT NULL,      -- the KST day the last complete sync started on
            run_id VARCHAR,
            full_refresh BOOLEAN NOT NULL,  -- that sync listed the whole catalog
            updated_at TIMESTAMPTZ NOT NULL
        );
        """,
    ),
)


class WrongStoreError(ValueError):
    """The file holds another store's catalog."""


def migrate(con: duckdb.DuckDBPyConnection, store_key: str = DEFAULT_STORE) -> list[int]:
    """Apply every migration not yet applied, then stamp the catalog as `store_key`'s; return the
    versions applied now."""
    done = _apply_migrations(con)
    _stamp_store(con, store_key)
    return done


def _stamp_store(con: duckdb.DuckDBPyConnection, store_key: str) -> None:
    """Every table carries the store key: a `store_key` column, its default the store whose catalog
    the file is (one file per store: resources/store/README.md), so catalogs of several stores can
    be put side by side (ATTACH, UNION ALL BY NAME) and the same rows fit a shared database. A file
    made before there were many stores becomes store `default`'s. Writes never name the column
    (they insert by name or by column list); a migration that rebuilds a table keeps it."""
    con.execute("CREATE TABLE IF NOT EXISTS catalog_store (store_key VARCHAR NOT NULL, stamped_at TIMESTAMPTZ NOT NULL)")
    stamped = con.execute("SELECT store_key FROM catalog_store").fetchone()
    if stamped is not None and stamped[0] != store_key:
        raise WrongStoreError(f"this catalog file belongs to store {stamped[0]!r}, not {store_key!r}")
    unstamped = _tables_without_store_key(con)
    if stamped is not None and not unstamped:
        return
    quoted = store_key.replace("'", "''")
    con.execute("BEGIN TRANSACTION")
    try:
        for table in unstamped:
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN store_key VARCHAR DEFAULT \'{quoted}\'')
        if stamped is None:
            con.execute("INSERT INTO catalog_store VALUES (?, now())", [store_key])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _tables_without_store_key(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Two plain listings, compared here: asked on every connect, one query joining the two took
    11-14 ms on a freshly opened file, these two about 1.5 ms."""
    where = "database_name = current_database() AND schema_name = 'main'"
    tables = {name for (name,) in con.execute(f"SELECT table_name FROM duckdb_tables() WHERE {where}").fetchall()}
    stamped = {name for (name,) in con.execute(
        f"SELECT table_name FROM duckdb_columns() WHERE {where} AND column_name = 'store_key'").fetchall()}
    return sorted(tables - stamped - {"schema_migrations", "catalog_store"})


def _apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    done: list[int] = []
    for version, ddl in MIGRATIONS:
        if version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(ddl)
            con.execute("INSERT INTO schema_migrations VALUES (?, now())", [version])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        done.append(version)
    return done
