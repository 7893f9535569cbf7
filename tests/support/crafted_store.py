"""A real DuckDB store in a temporary folder, filled with crafted rows (the `store` fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

from resources.store import DuckDBStore


@dataclass
class CraftedStore:
    """Rows written straight into the store's tables, as a sync and a package run would leave them."""

    resource: DuckDBStore

    def execute(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with self.resource.connect() as catalog:
            return catalog.con.execute(sql, parameters or []).fetchall()

    def add_products(self, first: int, count: int, *, sale_price: int | None = 19_900, status: str = "SALE") -> None:
        self.execute(
            """
            INSERT INTO products (origin_product_no, name, status_type, sale_price, modified_date, payload_hash,
                                  first_seen_at, synced_at)
            SELECT i, '상품 ' || i, ?, ?, now(), md5(i::VARCHAR), now(), now() FROM range(?, ?) t(i)
            """,
            [status, sale_price, first, first + count],
        )

    def enqueue(self, first: int, count: int, *, status: str = "pending", attempts: int = 0,
                updated_seconds_ago: float = 0.0) -> None:
        self.execute(
            """
            INSERT OR REPLACE INTO refresh_queue
                (origin_product_no, payload_hash, reason, status, attempts, last_error, enqueued_at, updated_at)
            SELECT i, md5(i::VARCHAR), 'new', ?, ?, NULL, now() - to_seconds(?), now() - to_seconds(?)
            FROM range(?, ?) t(i)
            """,
            [status, attempts, updated_seconds_ago, updated_seconds_ago, first, first + count],
        )

    def add_packages(self, first: int, count: int, *, template_version: str, settings_hash: str,
                     variant: str = "default") -> None:
        self.execute(
            """
            INSERT OR REPLACE INTO packages (origin_product_no, variant, path, content_hash, size_bytes, built_at,
                                             template_version, settings_hash)
            SELECT i, ?, 'packages/' || i, md5(i::VARCHAR), 1, now(), ?, ? FROM range(?, ?) t(i)
            """,
            [variant, template_version, settings_hash, first, first + count],
        )


def run(instance: dg.DagsterInstance, store: CraftedStore, *definitions: Any,
        raise_on_error: bool = True, selection: Any = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(definitions), instance=instance, resources={"store": store.resource},
                          raise_on_error=raise_on_error, selection=selection)


def evaluation(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)
