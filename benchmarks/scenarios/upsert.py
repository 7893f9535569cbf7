"""The DuckDB upsert, measured rather than assumed: 10k and 1M rows, a no-change 1M, commit
strategies (row by row, batches of 100/500/1000, one batch), the primary-key index on/off, and
the payload-hash skip on/off.

Rows are synthetic but shaped like the emulator's products (about 1.5 KB of seller HTML, 1-10
image URLs, a few tags), made by DuckDB itself so that generating them costs little. Every
measurement writes to a fresh on-disk DuckDB file, as a sync does.

Each size is also measured against a bare `INSERT INTO` of the same Arrow rows into an empty table
of the same columns and primary key (no hash, no lookup, DuckDB's default settings), the arms
alternating in this process: `vs_bare_insert_10k` and `vs_bare_insert_1m` are our upsert's median
over the bare insert's, a ratio that holds from machine to machine where the seconds do not.

Rows carry the seller HTML's md5, as a sync hands them to the store (it hashes each detail as it
arrives, while waiting on the rate limit). The `*_hashing_html` figures are the same upserts of
rows without it, the store hashing the HTML inside the write.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from resources.store import PRODUCT_COLUMNS, migrate, upsert_products
from resources.store.upsert import DETAIL_TEXT_MD5_COLUMN, detail_text_md5_sql

_SYNTHETIC_PRODUCTS_SQL = """
SELECT
    (1000000000 + i)::BIGINT AS origin_product_no,
    (2000000000 + i)::BIGINT AS channel_product_no,
    'SMC-' || i AS seller_management_code,
    '프리미엄 상품 ' || i || ' 베이직 에디션' AS name,
    CASE WHEN i % 50 = 0 THEN 'OUTOFSTOCK' ELSE 'SALE' END AS status_type,
    (1000 + (i * 7919) % 990000 + {price_bump})::BIGINT AS sale_price,
    (900 + (i * 7919) % 890000)::BIGINT AS discounted_price,
    ((i * 31) % 5000)::BIGINT AS stock_quantity,
    'https://shop-phinf.pstatic.net/images/' || i || '/1.jpg' AS representative_image_url,
    TIMESTAMPTZ '2025-05-01 00:00:00+09' + to_seconds(i % 2592000) AS modified_date,
    '생활/건강>주방용품>조리도구>뒤집개' AS category,
    '바른농부' AS brand_name,
    '바른농부 주식회사' AS manufacturer_name,
    'M-' || (i % 997) AS model_name,
    ['무료배송', '태그' || (i % 97), '선물추천'] AS seller_tags,
    list_transform(range(1, 2 + i % 10), lambda n: 'https://shop-phinf.pstatic.net/images/' || i || '/' || n || '.jpg')
        AS image_urls,
    '<p>상품 ' || i || '</p>\n' || list_extract($paragraphs, 1 + i % 8) AS detail_content,
    '프리미엄 상품 ' || i || ' - 바른농부' AS page_title,
    '바른농부 프리미엄 상품 ' || i || '. 생활/건강 주방용품' AS meta_description
FROM range({start}, {stop}) AS t(i)
"""


# Seller HTML of 6..13 paragraphs (about 0.9-2.1 KB), like the emulator's detailContent.
_PARAGRAPH = "<p>신선한 재료로 정성껏 만든 상품입니다. 선물용 포장을 원하시면 배송 메모에 남겨 주세요.</p>\n"
_PARAGRAPHS = [_PARAGRAPH * count for count in range(6, 14)]


def synthetic_products(rows: int, *, start: int = 0, price_bump: int = 0, text_md5: bool = True) -> pa.Table:
    """`rows` product rows with PRODUCT_COLUMNS, and the md5 of their detail text columns unless
    `text_md5` is false; `price_bump` changes every row's price."""
    sql = _SYNTHETIC_PRODUCTS_SQL.format(start=start, stop=start + rows, price_bump=price_bump)
    if text_md5:
        sql = f"SELECT *, {detail_text_md5_sql()} AS {DETAIL_TEXT_MD5_COLUMN} FROM ({sql})"
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        table = con.sql(sql, params={"paragraphs": _PARAGRAPHS}).to_arrow_table()
    expected = (*PRODUCT_COLUMNS, DETAIL_TEXT_MD5_COLUMN) if text_md5 else PRODUCT_COLUMNS
    assert tuple(table.column_names) == expected, "synthetic rows drifted from PRODUCT_COLUMNS"
    return table


def _without_text_md5(table: pa.Table) -> pa.Table:
    return table.drop_columns([DETAIL_TEXT_MD5_COLUMN])


def _with_changes(table: pa.Table, every: int) -> pa.Table:
    """Every `every`-th row gets a new price: an update of 1/every of the rows."""
    import pyarrow.compute as pc

    prices = table.column("sale_price")
    positions = pa.array(range(table.num_rows))
    changed = pc.equal(pc.remainder(positions, every), 0)
    bumped = pc.if_else(changed, pc.add(prices, 1), prices)
    return table.set_column(table.column_names.index("sale_price"), "sale_price", bumped)


class _Databases:
    """Fresh DuckDB files in one scratch folder, with the project's schema."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def fresh(self, *, primary_key: bool = True) -> duckdb.DuckDBPyConnection:
        self.count += 1
        con = duckdb.connect(str(self.root / f"upsert-{self.count}.duckdb"))
        con.execute("SET TimeZone = 'Asia/Seoul'")
        migrate(con)
        if not primary_key:
            # Same columns, no constraints (so no ART index): what "index off" means here.
            con.execute("CREATE TABLE products_without_key AS SELECT * FROM products LIMIT 0")
            con.execute("DROP TABLE products")
            con.execute("ALTER TABLE products_without_key RENAME TO products")
        return con


def _fresh_upserts(databases: _Databases, rows: pa.Table, repeats: int) -> list[float]:
    """Seconds to upsert `rows` into a fresh file, `repeats` times; each must write every row."""
    samples = []
    for _ in range(repeats):
        con = databases.fresh()
        try:
            counts, seconds = _timed(lambda con=con: upsert_products(con, rows))
        finally:
            con.close()
        assert counts.rows_written == rows.num_rows, "a fresh upsert did not write every row"
        samples.append(seconds)
    return samples


def _bare_insert(databases: _Databases, rows: pa.Table) -> float:
    """Seconds to INSERT `rows` as they are into an empty table of their columns keyed like products."""
    con = databases.fresh()
    try:
        con.register("incoming_rows", rows)
        con.execute("CREATE TABLE bare_products AS SELECT * FROM incoming_rows LIMIT 0")
        con.execute("ALTER TABLE bare_products ADD PRIMARY KEY (origin_product_no)")
        _, seconds = _timed(lambda: con.execute("INSERT INTO bare_products SELECT * FROM incoming_rows"))
        (count,) = con.execute("SELECT count(*) FROM bare_products").fetchone()
    finally:
        con.close()
    assert count == rows.num_rows, "the bare insert lost rows"
    return seconds


def _against_bare_insert(databases: _Databases, rows: pa.Table, repeats: int) -> tuple[list[float], list[float]]:
    """Our upsert and the bare insert of `rows`, each into a fresh file, alternating `repeats` times."""
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(repeats):
        ours += _fresh_upserts(databases, rows, 1)
        bare.append(_bare_insert(databases, rows))
    return ours, bare


def _ratio_figures(figures: dict[str, Any], size: str, ours: list[float], bare: list[float]) -> None:
    figures[f"rows_{size}_seconds"] = round(statistics.median(ours), 4)
    figures[f"rows_{size}_samples_seconds"] = [round(s, 4) for s in ours]
    figures[f"bare_insert_{size}_seconds"] = round(statistics.median(bare), 4)
    figures[f"bare_insert_{size}_samples_seconds"] = [round(s, 4) for s in bare]
    figures[f"vs_bare_insert_{size}"] = round(statistics.median(ours) / statistics.median(bare), 3)


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _row_bytes(table: pa.Table) -> int:
    return round(table.nbytes / table.num_rows) if table.num_rows else 0


def _commit_strategy(databases: _Databases, rows: pa.Table, batch_rows: int, sample_rows: int | None = None) -> dict:
    """Upsert `rows` into a fresh table in batches of `batch_rows`, one transaction per batch.

    With `sample_rows`, only that many rows are written and the time is scaled to all of them
    (row by row, 10k rows take minutes; the per-row cost is flat).
    """
    target = rows if sample_rows is None else rows.slice(0, sample_rows)
    con = databases.fresh()
    try:
        started = time.perf_counter()
        written = 0
        for offset in range(0, target.num_rows, batch_rows):
            written += upsert_products(con, target.slice(offset, batch_rows)).rows_written
        seconds = time.perf_counter() - started
    finally:
        con.close()
    scaled = seconds * rows.num_rows / target.num_rows
    return {
        "batch_rows": batch_rows,
        "rows": rows.num_rows,
        "rows_measured": target.num_rows,
        "rows_written": written,
        "seconds": round(scaled, 4),
        "seconds_per_row": scaled / rows.num_rows,
        "rows_per_second": round(rows.num_rows / scaled, 1) if scaled else None,
        "extrapolated": sample_rows is not None,
    }


def run(params: dict[str, Any]) -> dict[str, Any]:
    small_rows = int(params.get("small_rows", 10_000))
    large_rows = int(params.get("large_rows", 1_000_000))
    repeats = int(params.get("repeats", 3))
    large_repeats = int(params.get("large_repeats", 2))
    row_by_row_sample = int(params.get("row_by_row_sample", 300))
    full_matrix = bool(params.get("matrix", False))
    figures: dict[str, Any] = {"small_rows": small_rows, "large_rows": large_rows}

    with tempfile.TemporaryDirectory(prefix="bench-upsert-") as scratch:
        databases = _Databases(Path(scratch))
        small = synthetic_products(small_rows)
        figures["row_bytes_in_arrow"] = _row_bytes(small)

        # 10k rows into an empty table, one call: the median of a few fresh files, beside as many
        # bare inserts of the same rows.
        _ratio_figures(figures, "10k", *_against_bare_insert(databases, small, repeats))
        figures["rows_10k_written"] = small.num_rows
        figures["rows_10k_seconds_hashing_html"] = round(
            statistics.median(_fresh_upserts(databases, _without_text_md5(small), repeats)), 4
        )

        row_by_row = _commit_strategy(databases, small, 1, sample_rows=row_by_row_sample)
        figures["row_by_row_seconds_per_row"] = round(row_by_row["seconds_per_row"], 6)
        batch_per_row = figures["rows_10k_seconds"] / small_rows
        figures["batch_vs_row_speedup"] = round(row_by_row["seconds_per_row"] / batch_per_row, 1)
        figures["batch_vs_row_note"] = (
            f"row by row: {row_by_row_sample} rows, each its own upsert_products call and transaction, "
            f"per-row time vs the {small_rows}-row single call"
        )

        large, generate_seconds = _timed(lambda: synthetic_products(large_rows))
        figures["large_generate_seconds"] = round(generate_seconds, 3)
        _ratio_figures(figures, "1m", *_against_bare_insert(databases, large, large_repeats))
        figures["rows_1m_written"] = large.num_rows
        con = databases.fresh()
        try:
            upsert_products(con, large)  # the table the no-change upsert and the matrix start from
            counts, seconds = _timed(lambda: upsert_products(con, large))
            figures["noop_1m_rows_written"] = counts.rows_written
            figures["noop_1m_seconds"] = round(seconds, 3)
            con_hashing = databases.fresh()
            try:
                _, seconds = _timed(lambda: upsert_products(con_hashing, _without_text_md5(large)))
                figures["rows_1m_seconds_hashing_html"] = round(seconds, 3)
            finally:
                con_hashing.close()
            if full_matrix:
                figures["matrix"] = _matrix(databases, con, small, large)
        finally:
            con.close()
    return figures


def _matrix(databases: _Databases, loaded: duckdb.DuckDBPyConnection, small: pa.Table, large: pa.Table) -> dict:
    """The seed plan's questions: commit strategy, index on/off, hash-skip on/off."""
    strategies = [_commit_strategy(databases, small, 1, sample_rows=2_000)]
    strategies += [_commit_strategy(databases, small, batch) for batch in (100, 500, 1_000, small.num_rows)]
    for strategy in strategies:
        strategy["seconds_per_row"] = round(strategy["seconds_per_row"], 8)

    changed = _with_changes(large, every=10)
    index = []
    for primary_key in (True, False):
        con = databases.fresh(primary_key=primary_key)
        try:
            _, insert_seconds = _timed(lambda con=con: upsert_products(con, large))
            updated, update_seconds = _timed(lambda con=con: upsert_products(con, changed))
        finally:
            con.close()
        index.append({
            "index": "primary key" if primary_key else "none",
            "rows": large.num_rows,
            "insert_seconds": round(insert_seconds, 3),
            "update_10pct_seconds": round(update_seconds, 3),
            "update_10pct_rows_written": updated.rows_written,
        })

    hash_skip = []
    for skip in (True, False):
        # `loaded` already holds `large`; re-upserting it changes nothing.
        counts, seconds = _timed(lambda skip=skip: upsert_products(loaded, large, skip_unchanged=skip))
        hash_skip.append({
            "skip_unchanged": skip, "rows": large.num_rows, "seconds": round(seconds, 3),
            "rows_written": counts.rows_written,
        })
    return {"commit_strategies": strategies, "index": index, "hash_skip": hash_skip}
