"""What the UI shows of a table asset, as Dagster's ETL tutorial does: its columns
(`dagster/column_schema`) and a few rows as a markdown preview. Seller strings are data: a cell is
one line, cut short, with markdown's and HTML's special characters escaped."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import duckdb

PREVIEW_ROWS = 5
CELL_CHARS = 40
# The columns a preview shows, per table: enough to recognise the rows, never a whole payload.
PREVIEW_COLUMNS = {
    "product_list": ("origin_product_no", "name", "status_type", "sale_price", "modified_date"),
    "products": ("origin_product_no", "name", "status_type", "sale_price", "modified_date", "synced_at"),
    "refresh_queue": ("origin_product_no", "reason", "status", "attempts", "updated_at"),
}


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, object]:
    """`dagster/column_schema` and `preview` (the first rows by origin_product_no) of `table`."""
    described = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = current_schema() ORDER BY ordinal_position", [table]
    ).fetchall()
    schema = dg.TableSchema(columns=[dg.TableColumn(name, str(column_type)) for name, column_type in described])
    columns = PREVIEW_COLUMNS[table]
    rows = con.execute(
        f"SELECT {', '.join(columns)} FROM {table} ORDER BY origin_product_no LIMIT {PREVIEW_ROWS}"  # noqa: S608
    ).fetchall()
    return {"dagster/column_schema": schema, "preview": dg.MetadataValue.md(markdown_table(columns, rows))}


def markdown_table(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    text = " ".join(str("" if value is None else value).split())
    if len(text) > CELL_CHARS:
        text = text[: CELL_CHARS - 1] + "…"
    for special, escaped in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("*", "\\*"),
                             ("_", "\\_"), ("`", "\\`"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(special, escaped)
    return text
