"""The set-based products upsert, on both backends (a real DuckDB file, a real Postgres)."""

from __future__ import annotations

import hashlib

import duckdb
import psycopg
import pyarrow as pa
import pytest

from resources.store import DuckDBStore, PostgresStore, migrate, upsert_products
from resources.store.postgres.connection import is_postgres
from resources.store.postgres.store import close_pools
from resources.store.schema import WrongStoreError
from resources.store.upsert import detail_text_md5


def rows(numbers, name="쌀 10kg", price=19_900) -> pa.Table:
    n = len(numbers)
    return pa.table({
        "origin_product_no": pa.array(numbers, pa.int64()),
        "channel_product_no": pa.array([x + 1 for x in numbers], pa.int64()),
        "seller_management_code": pa.array([None] * n, pa.string()),
        "name": [name] * n,
        "status_type": ["SALE"] * n,
        "sale_price": pa.array([price] * n, pa.int64()),
        "discounted_price": pa.array([price] * n, pa.int64()),
        "stock_quantity": pa.array([3] * n, pa.int64()),
        "representative_image_url": ["http://img/1.jpg"] * n,
        "modified_date": pa.array([1_767_225_600_000_000] * n, pa.timestamp("us", tz="Asia/Seoul")),
        "category": ["식품"] * n,
        "brand_name": pa.array([None] * n, pa.string()),
        "manufacturer_name": pa.array([None] * n, pa.string()),
        "model_name": pa.array([None] * n, pa.string()),
        "seller_tags": pa.array([["국산"]] * n, pa.list_(pa.string())),
        "image_urls": pa.array([["http://img/1.jpg"]] * n, pa.list_(pa.string())),
        "detail_content": ["<p>맛있는 쌀</p>"] * n,
        "page_title": pa.array([None] * n, pa.string()),
        "meta_description": pa.array([None] * n, pa.string()),
    })


@pytest.fixture
def con(catalog_db):
    with catalog_db.connect() as catalog:
        yield catalog.con


def test_migrations_are_idempotent(catalog_db):
    with catalog_db.connect() as catalog:
        versions = catalog.con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        stamp = catalog.con.execute("SELECT store_key FROM catalog_store").fetchall()
    if isinstance(catalog_db, PostgresStore):  # a new process opens it: migrate finds nothing to do
        close_pools(catalog_db.url)
    with catalog_db.connect() as catalog:
        assert catalog.con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall() == versions
        assert catalog.con.execute("SELECT store_key FROM catalog_store").fetchall() == stamp == [("default",)]
        if isinstance(catalog_db, DuckDBStore):
            assert migrate(catalog.con) == []
    assert versions and versions[0] == (1,)


def test_every_table_carries_the_store_key_and_a_store_opens_only_its_own_catalog(catalog_db):
    with catalog_db.for_store("shop-a").connect() as catalog:
        upsert_products(catalog.con, rows([1]))
        assert catalog.con.execute("SELECT store_key FROM products").fetchall() == [("shop-a",)]
    with catalog_db.for_store("shop-b").connect() as catalog:
        assert catalog.count("products") == 0
    if isinstance(catalog_db, DuckDBStore):  # a file made for one store, opened as another
        with pytest.raises(WrongStoreError):
            migrate(duckdb.connect(str(catalog_db.for_store("shop-a").path)), "shop-b")


def test_upsert_reports_inserted_updated_and_unchanged(con):
    first = upsert_products(con, rows([1, 2, 3]))
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    changed = rows([2, 3, 4])
    changed = changed.set_column(changed.schema.get_field_index("sale_price"), "sale_price",
                                 pa.array([19_900, 25_000, 19_900], pa.int64()))
    second = upsert_products(con, changed)
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
    assert con.execute("SELECT sale_price FROM products WHERE origin_product_no = 3").fetchone()[0] == 25_000


def test_a_no_change_upsert_writes_nothing(con):
    upsert_products(con, rows(list(range(100))))
    before = con.execute("SELECT max(synced_at), min(first_seen_at) FROM products").fetchone()
    again = upsert_products(con, rows(list(range(100))))
    assert again.rows_written == 0 and again.unchanged == 100
    assert con.execute("SELECT max(synced_at), min(first_seen_at) FROM products").fetchone() == before


def test_without_hash_skip_every_row_is_rewritten(con):
    upsert_products(con, rows([1, 2]))
    assert upsert_products(con, rows([1, 2]), skip_unchanged=False).updated == 2


def test_an_update_keeps_first_seen_at(con):
    upsert_products(con, rows([7]))
    first_seen = con.execute("SELECT first_seen_at FROM products").fetchone()[0]
    upsert_products(con, rows([7], name="바뀐 이름"))
    assert con.execute("SELECT name, first_seen_at FROM products").fetchone() == ("바뀐 이름", first_seen)


def test_a_batch_repeating_a_key_lands_it_once(con):
    counts = upsert_products(con, rows([5, 5, 6]))
    assert counts.inserted == 2
    assert con.execute("SELECT count(*) FROM products").fetchone()[0] == 2


def test_chunks_land_in_one_transaction(con):
    bad = rows([1, 2, 3, 4])
    # the last chunk breaks a NOT NULL column: nothing of the batch may land
    bad = bad.set_column(bad.schema.get_field_index("name"), "name", pa.array(["a", "b", "c", None]))
    with pytest.raises((duckdb.Error, psycopg.Error)):
        upsert_products(con, bad, chunk_rows=2)
    assert con.execute("SELECT count(*) FROM products").fetchone()[0] == 0


def test_the_payload_hash_tells_null_from_empty(con):
    with_null = rows([1])
    empty = rows([2])
    empty = empty.set_column(empty.schema.get_field_index("brand_name"), "brand_name", pa.array([""]))
    upsert_products(con, with_null)
    upsert_products(con, empty)
    hashes = {row[0] for row in con.execute("SELECT payload_hash FROM products").fetchall()}
    assert len(hashes) == 2


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


# The row rows([1]) makes, as text: its detail text columns by their md5.
_PINNED_TEXT = ["쌀 10kg", "\0", "http://img/1.jpg", "<p>맛있는 쌀</p>", "\0", "\0"]
_PINNED_FIELDS = ["2", "\0", "SALE", "19900", "19900", "3", "http://img/1.jpg", "1767225600000000", "식품", "\0", "\0",
                  "국산", _md5("\x1f".join(_PINNED_TEXT))]


def test_the_payload_hash_is_md5_of_the_columns_as_text(con):
    # Pinned so that a DuckDB upgrade or a rewrite of the upsert cannot change stored hashes
    # (a changed hash re-enqueues the whole catalog).
    upsert_products(con, rows([1]))
    assert con.execute("SELECT payload_hash FROM products").fetchone()[0] == _md5("\x1f".join(_PINNED_FIELDS))


def test_the_python_text_md5_is_the_sql_one():
    assert detail_text_md5("쌀 10kg", None, ["http://img/1.jpg"], "<p>맛있는 쌀</p>", None, None) == \
        _md5("\x1f".join(_PINNED_TEXT))
    # Two URLs joined by chr(30); an empty list is the empty string, not NULL.
    assert detail_text_md5("a", "m", ["u1", "u2"], "", "t", "d") == _md5("\x1f".join(["a", "m", "u1\x1eu2", "", "t", "d"]))
    assert detail_text_md5("a", None, [], "", None, None) != detail_text_md5("a", None, None, "", None, None)


def test_rows_carrying_the_text_md5_hash_the_same_and_skip_hashing_the_text(con):
    hashed = rows([1]).append_column("detail_text_md5", pa.array([_md5("\x1f".join(_PINNED_TEXT))]))
    upsert_products(con, hashed)
    assert con.execute("SELECT payload_hash FROM products").fetchone()[0] == _md5("\x1f".join(_PINNED_FIELDS))
    assert upsert_products(con, rows([1])).unchanged == 1
    # The carried md5 is what counts: the text itself is not hashed again.
    stale = rows([1]).append_column("detail_text_md5", pa.array([_md5("다른 HTML")]))
    assert upsert_products(con, stale).updated == 1


def test_the_upsert_restores_the_connections_settings(con):
    if is_postgres(con):
        pytest.skip("DuckDB's write settings; Postgres's merge changes none")
    con.execute("SET force_compression = 'uncompressed'")
    con.execute("SET preserve_insertion_order = true")
    upsert_products(con, rows([1, 2]))
    settings = "SELECT current_setting('force_compression'), current_setting('preserve_insertion_order')"
    assert con.execute(settings).fetchone() == ("uncompressed", True)


def test_migration_5_rehashes_products_and_the_queue_items_that_ask_for_them(tmp_path):
    from resources.store.schema import MIGRATIONS

    connection = duckdb.connect(str(tmp_path / "old.duckdb"))
    connection.execute("SET TimeZone = 'Asia/Seoul'")
    connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
    for version, ddl in MIGRATIONS[:4]:
        connection.execute(ddl)
        connection.execute("INSERT INTO schema_migrations VALUES (?, now())", [version])
    # Rows as the version-4 upsert left them: every column as text, the HTML in full.
    old_fields = ["2", "\0", "쌀 10kg", "SALE", "19900", "19900", "3", "http://img/1.jpg", "1767225600000000", "식품",
                  "\0", "\0", "\0", "국산", "http://img/1.jpg", "<p>맛있는 쌀</p>", "\0", "\0"]
    old_hash = _md5("\x1f".join(old_fields))
    connection.register("incoming", rows([1, 2]))
    connection.execute(f"INSERT INTO products SELECT *, '{old_hash}', now(), now() FROM incoming")  # one old hash for both: only 1 is checked
    connection.execute(
        "INSERT INTO refresh_queue VALUES (1, ?, 'new', 'done', 1, NULL, now(), now()),"
        " (2, 'stale', 'changed', 'pending', 0, NULL, now(), now())",
        [old_hash],
    )
    assert migrate(connection)[0] == 5  # and the migrations after it
    new_hash = _md5("\x1f".join(_PINNED_FIELDS))
    assert connection.execute("SELECT payload_hash FROM products WHERE origin_product_no = 1").fetchone() == (new_hash,)
    queue = dict(connection.execute("SELECT origin_product_no, payload_hash FROM refresh_queue").fetchall())
    assert queue == {1: new_hash, 2: "stale"}
    assert upsert_products(connection, rows([1, 2])).unchanged == 2
    connection.close()


def test_the_payload_hash_changes_when_any_column_changes(con):
    base = rows([1])
    changes = {
        "channel_product_no": pa.array([9], pa.int64()),
        "seller_management_code": pa.array(["S-1"]),
        "name": pa.array(["다른 이름"]),
        "status_type": pa.array(["OUTOFSTOCK"]),
        "sale_price": pa.array([1], pa.int64()),
        "discounted_price": pa.array([1], pa.int64()),
        "stock_quantity": pa.array([0], pa.int64()),
        "representative_image_url": pa.array(["http://img/2.jpg"]),
        "modified_date": pa.array([1_767_225_600_000_001], pa.timestamp("us", tz="Asia/Seoul")),
        "category": pa.array(["가전"]),
        "brand_name": pa.array(["브랜드"]),
        "manufacturer_name": pa.array(["제조사"]),
        "model_name": pa.array(["M-1"]),
        "seller_tags": pa.array([["국산", "햅쌀"]], pa.list_(pa.string())),
        "image_urls": pa.array([["http://img/1.jpg", "http://img/2.jpg"]], pa.list_(pa.string())),
        "detail_content": pa.array(["<p>맛있는 쌀!</p>"]),
        "page_title": pa.array(["제목"]),
        "meta_description": pa.array(["설명"]),
    }
    assert set(changes) == set(base.column_names) - {"origin_product_no"}
    upsert_products(con, base)
    hashes = {con.execute("SELECT payload_hash FROM products").fetchone()[0]}
    for column, value in changes.items():
        changed = base.set_column(base.schema.get_field_index(column), column, value)
        counts = upsert_products(con, changed)
        assert counts.updated == 1, column
        hashes.add(con.execute("SELECT payload_hash FROM products").fetchone()[0])
        upsert_products(con, base)
    assert len(hashes) == len(changes) + 1


def test_a_repeated_key_lands_from_its_last_row(con):
    batch = rows([5, 6, 5])
    batch = batch.set_column(batch.schema.get_field_index("name"), "name", pa.array(["첫째", "둘째", "셋째"]))
    upsert_products(con, batch)
    assert con.execute("SELECT name FROM products WHERE origin_product_no = 5").fetchone()[0] == "셋째"


def test_a_mixed_batch_inserts_new_updates_changed_and_skips_the_rest(con):
    upsert_products(con, rows(list(range(10))))
    batch = rows(list(range(5, 15)))
    prices = pa.array([19_900 if n % 2 else 1 for n in range(5, 15)], pa.int64())
    batch = batch.set_column(batch.schema.get_field_index("sale_price"), "sale_price", prices)
    counts = upsert_products(con, batch, chunk_rows=3)
    # keys 5-9 exist: 6 and 8 changed price; 10-14 are new
    assert (counts.inserted, counts.updated, counts.unchanged) == (5, 2, 3)
    assert con.execute("SELECT count(*), count(*) FILTER (WHERE sale_price = 1) FROM products").fetchone() == (15, 5)
