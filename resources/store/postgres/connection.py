"""A psycopg connection that speaks as the store's DuckDB connection does, so one body of store SQL
serves both backends (resources/store/README.md, "Two backends").

The store's SQL is written in what DuckDB and Postgres both accept; what differs lives here and in
schema.py: `?` placeholders (Postgres's driver takes `%s`), `register` of an Arrow table (DuckDB
scans it in place; here it is COPYed into a temporary table of the same name), `fetchnumpy`, and the
few DuckDB functions the SQL calls, which schema.py defines in every store's schema.
The connection is in autocommit mode, as DuckDB's is: `BEGIN TRANSACTION` ... `COMMIT` in the SQL
make a transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
from psycopg import sql

_PLACEHOLDER = re.compile(r"\?")


def is_postgres(con: object) -> bool:
    """Whether a store connection is a Postgres one (else a DuckDB connection)."""
    return isinstance(con, PgConnection)


def _postgres_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"{_postgres_type(arrow_type.value_type)}[]"
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_integer(arrow_type):
        return "INTEGER"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE PRECISION"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    if pa.types.is_date(arrow_type):
        return "DATE"
    return "VARCHAR"  # strings, and columns of nothing but NULL


class PgCursor:
    """The results of one statement, read as a DuckDB result is: a statement that returns no rows
    (an INSERT, an UPDATE without RETURNING) reads as one row holding the count of rows it changed."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor

    def fetchone(self) -> tuple | None:
        if self._cursor.description is None:
            return (self._cursor.rowcount,)
        return self._cursor.fetchone()

    def fetchall(self) -> list[tuple]:
        if self._cursor.description is None:
            return [(self._cursor.rowcount,)]
        return self._cursor.fetchall()

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        names = [column.name for column in self._cursor.description or ()]
        rows = self._cursor.fetchall()
        return {name: np.array([row[i] for row in rows]) for i, name in enumerate(names)}

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class PgConnection:
    """One pooled connection, its search_path the store's schema."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection

    def execute(self, query: str, parameters: Sequence[Any] | None = None) -> PgCursor:
        cursor = self.connection.cursor()
        if parameters:
            cursor.execute(_PLACEHOLDER.sub("%s", query.replace("%", "%%")), list(parameters))
        else:
            cursor.execute(query)
        return PgCursor(cursor)

    def executemany(self, query: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(_PLACEHOLDER.sub("%s", query.replace("%", "%%")), [list(row) for row in rows])

    def register(self, name: str, table: pa.Table) -> None:
        """`table` as a temporary table `name` (replacing one of that name), loaded by COPY."""
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(field.name), sql.SQL(_postgres_type(field.type)))
            for field in table.schema)
        with self.connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("CREATE TEMP TABLE {} ({})").format(sql.Identifier(name), columns))
            copy_rows(cursor, name, table)

    def unregister(self, name: str) -> None:
        self.connection.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(name)))

    def close(self) -> None:
        self.connection.close()


def copy_rows(cursor: psycopg.Cursor, table_name: str, table: pa.Table, *, batch_rows: int = 50_000) -> None:
    """COPY the rows of an Arrow table into `table_name`'s columns of the same names."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table_name), sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names))
    with cursor.copy(statement) as copy:
        for batch in table.to_batches(max_chunksize=batch_rows):
            for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                copy.write_row(row)
