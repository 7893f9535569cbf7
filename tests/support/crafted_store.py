"""A real store (a DuckDB file in a temporary folder, or a Postgres schema), filled with crafted rows
(the `store` fixture). The SQL is what both backends take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

from resources.store import CatalogDatabase


@dataclass
class CraftedStore:
    """Rows written straight into the store's tables, as a sync and a package run would leave them."""

    resource: CatalogDatabase

    def execute(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with self.resource.connect() as catalog:
            return catalog.con.execute(sql, parameters or []).fetchall()

    def add_products(self, first: int, count: int, *, sale_price: int | None = 19_900, status: str = "SALE") -> None:
        self.execute(
            """
            INSERT INTO products (origin_product_no, name, status_type, sale_price, modified_date, payload_hash,
                                  first_seen_at, synced_at)
            SELECT i, '상품 ' || i, ?, ?, now(), md5(i::VARCHAR), now(), now() FROM generate_series(?, ?) t(i)
            """,
            [status, sale_price, first, first + count - 1],
        )

    def enqueue(self, first: int, count: int, *, status: str = "pending", attempts: int = 0,
                updated_seconds_ago: float = 0.0) -> None:
        self.execute(
            """
            INSERT INTO refresh_queue
                (origin_product_no, payload_hash, reason, status, attempts, last_error, enqueued_at, updated_at)
            SELECT i, md5(i::VARCHAR), 'new', ?, ?, NULL, now() - to_seconds(?), now() - to_seconds(?)
            FROM generate_series(?, ?) t(i)
            ON CONFLICT (origin_product_no) DO UPDATE SET payload_hash = excluded.payload_hash,
                status = excluded.status, attempts = excluded.attempts, last_error = NULL,
                enqueued_at = excluded.enqueued_at, updated_at = excluded.updated_at
            """,
            [status, attempts, updated_seconds_ago, updated_seconds_ago, first, first + count - 1],
        )

    def add_packages(self, first: int, count: int, *, template_version: str, settings_hash: str,
                     variant: str = "default") -> None:
        self.execute(
            """
            INSERT INTO packages (origin_product_no, variant, path, content_hash, size_bytes, built_at,
                                  template_version, settings_hash)
            SELECT i, ?, 'packages/' || i, md5(i::VARCHAR), 1, now(), ?, ? FROM generate_series(?, ?) t(i)
            ON CONFLICT (origin_product_no, variant) DO UPDATE SET template_version = excluded.template_version,
                settings_hash = excluded.settings_hash, content_hash = excluded.content_hash
            """,
            [variant, template_version, settings_hash, first, first + count - 1],
        )


def run(instance: dg.DagsterInstance, store: CraftedStore, *definitions: Any,
        raise_on_error: bool = True, selection: Any = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(definitions), instance=instance, resources={"store": store.resource},
                          raise_on_error=raise_on_error, selection=selection)


def evaluation(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)
