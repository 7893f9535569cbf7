"""The lineage graph: product_list -> product_details -> products -> refresh_queue -> content_packages.

The first three are one multi-asset because their work overlaps (details of page 1 are fetched
while page 2 is listed, and details are upserted as they arrive); each still records its own
materialization and metadata.
"""


import time
from typing import Optional
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pyarrow as pa

from resources.commerce_api import CommerceApiResource, percentile
from resources.package_writer import PackageWriter
from resources.store import DuckDBStore, refresh_queue

from .catalog_sync import ALL_STATUS_TYPES, SyncAborted, run_sync
from .packaging import DEFAULT_DISCLOSURE, PackageProduct, PackageRenderer, package_files

POOL = "duckdb"  # every asset here writes the one DuckDB file; dagster.yaml limits the pool to 1
GROUP = "content_ops"


class SyncConfig(dg.Config):
    page_size: int = 500
    status_types: list[str] = list(ALL_STATUS_TYPES)
    max_error_ratio: float = 0.05
    flush_rows: int = 200


class PackagesConfig(dg.Config):
    variant: str = "default"
    disclosure: str = DEFAULT_DISCLOSURE
    max_items: Optional[int] = None
    image_workers: int = 8
    max_attempts: int = 3
    max_error_ratio: float = 0.2


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


@dg.multi_asset(
    specs=[
        dg.AssetSpec("product_list", group_name=GROUP, kinds={"duckdb"},
                     description="Every listed product (paged search, 500 a page), in the product_list table."),
        dg.AssetSpec("product_details", deps=["product_list"], group_name=GROUP, kinds={"duckdb"},
                     description="Detail payloads, fetched only for new or changed products."),
        dg.AssetSpec("products", deps=["product_details"], group_name=GROUP, kinds={"duckdb"},
                     description="One row per origin product; unchanged rows are skipped by payload hash."),
    ],
    pool=POOL,
    can_subset=False,
)
def catalog_sync(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    commerce_api: CommerceApiResource,
    store: DuckDBStore,
):
    client = commerce_api.get_client()
    token_started = time.perf_counter()
    client.tokens.get()
    token_fetch_seconds = time.perf_counter() - token_started

    with store.connect() as catalog:
        try:
            report = run_sync(
                client,
                catalog,
                page_size=config.page_size,
                status_types=config.status_types,
                max_concurrency=commerce_api.max_concurrency,
                flush_rows=config.flush_rows,
                run_id=context.run.run_id,
                log=context.log.info,
            )
        except SyncAborted as exc:
            raise dg.Failure(description=str(exc), metadata={"api_requests_total": client.stats.requests_by_endpoint()}) from exc
        list_rows = catalog.count("product_list")
        detail_rows = catalog.count("product_details")
        product_rows = catalog.count("products")

    stats = client.stats
    requests = stats.requests_by_endpoint()
    search_latency = stats.attempt_latency_percentiles("search")
    yield dg.MaterializeResult(
        asset_key="product_list",
        metadata={
            "dagster/row_count": list_rows,
            "products_listed": report.listed,
            "pages": report.pages,
            "token_fetch_seconds": round(token_fetch_seconds, 3),
            "list_fetch_seconds": round(report.list_fetch_seconds, 3),
            "list_fetch_p95_ms": _ms(search_latency["p95"]),
            "no_change_skip_total": report.unchanged_skipped,
            "malformed_list_entries": report.listed_bad_entries,
        },
    )
    yield dg.MaterializeResult(
        asset_key="product_details",
        metadata={
            "dagster/row_count": detail_rows,
            "detail_calls": report.needs_detail,
            "details_fetched": report.details_fetched,
            "detail_errors": report.detail_errors,
            "detail_fetch_p50_ms": report.detail_percentile_ms(50),
            "detail_fetch_p95_ms": report.detail_percentile_ms(95),
            "detail_fetch_p99_ms": report.detail_percentile_ms(99),
            "detail_peak_concurrency": report.peak_concurrency,
            "detail_pacing_rate_per_s": round(client.pacers["detail"].rate, 3),
            "changed_sku_ratio": round(report.changed_sku_ratio, 4),
            "api_requests_total": requests,
            "api_429_total": stats.total_429,
            "retry_total": stats.retries,
        },
    )
    products_metadata = {
        "dagster/row_count": product_rows,
        "rows_inserted": report.upsert.inserted,
        "rows_updated": report.upsert.updated,
        "rows_unchanged": report.upsert.unchanged,
        "rows_written": report.upsert.rows_written,
        "db_upsert_seconds": round(report.db_seconds, 3),
        "sync_total_seconds": round(report.total_seconds, 3),
        "error_ratio": round(report.error_ratio, 4),
        "api_requests_total_count": stats.total_requests,
    }
    if report.error_ratio > config.max_error_ratio:
        raise dg.Failure(
            description=(
                f"{len(report.errors)} product(s) failed ({report.error_ratio:.1%}), more than the "
                f"allowed {config.max_error_ratio:.1%}; see the sync_errors table"
            ),
            metadata=products_metadata,
        )
    if report.errors:
        context.log.warning(f"{len(report.errors)} product(s) skipped after errors; see the sync_errors table")
    yield dg.MaterializeResult(asset_key="products", metadata=products_metadata)


@dg.asset(name="refresh_queue", deps=["products"], group_name=GROUP, kinds={"duckdb"}, pool=POOL,
          description="Products whose current version has no content package yet.")
def refresh_queue_asset(store: DuckDBStore) -> dg.MaterializeResult:
    started = time.perf_counter()
    with store.connect() as catalog:
        catalog.con.execute("BEGIN TRANSACTION")
        counts = refresh_queue.enqueue_changed_products(catalog.con)
        catalog.con.execute("COMMIT")
        by_status = refresh_queue.status_counts(catalog.con)
    return dg.MaterializeResult(
        metadata={
            "refresh_queue_enqueue_total": counts.total,
            "enqueued_new": counts.new,
            "enqueued_changed": counts.changed,
            "pending": by_status.get(refresh_queue.PENDING, 0),
            "dagster/row_count": sum(by_status.values()),
            "enqueue_seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(deps=["refresh_queue"], group_name=GROUP, kinds={"duckdb", "html"}, pool=POOL,
          description="A Naver Blog package (post.html, meta.json, images) per queued product.")
def content_packages(
    context: dg.AssetExecutionContext,
    config: PackagesConfig,
    commerce_api: CommerceApiResource,
    store: DuckDBStore,
    package_writer: PackageWriter,
) -> dg.MaterializeResult:
    started = time.perf_counter()
    renderer = PackageRenderer(disclosure=config.disclosure)
    client = commerce_api.get_client()
    with store.connect() as catalog:
        items = refresh_queue.claim(catalog.con, limit=config.max_items, max_attempts=config.max_attempts)
        products: dict[int, PackageProduct] = {}
        if items:
            columns = PackageProduct.columns()
            catalog.con.register("claimed", _numbers_table([item.origin_product_no for item in items]))
            rows = catalog.con.execute(
                f"SELECT {', '.join(columns)} FROM products JOIN claimed USING (origin_product_no)"  # noqa: S608
            ).fetchall()
            catalog.con.unregister("claimed")
            products = {row[0]: PackageProduct(*row) for row in rows}

    def build(item: refresh_queue.QueueItem):  # noqa: ANN202
        build_started = time.perf_counter()
        product = products.get(item.origin_product_no)
        if product is None:
            raise LookupError(f"originProductNo {item.origin_product_no} is queued but not in products")
        rendered = renderer.render(product, config.variant)
        if package_writer.is_current(product.origin_product_no, config.variant, rendered.content_hash):
            write = package_writer.write(product.origin_product_no, config.variant, rendered.content_hash, {})
        else:
            images = [client.fetch_image(image.source_url) for image in rendered.images]
            write = package_writer.write(
                product.origin_product_no, config.variant, rendered.content_hash, package_files(rendered, images)
            )
        return rendered, write, time.perf_counter() - build_started

    done: list[refresh_queue.QueueItem] = []
    failed: list[tuple[refresh_queue.QueueItem, str]] = []
    recorded: list[tuple] = []
    build_seconds: list[float] = []
    bytes_written = built = unchanged = 0
    with ThreadPoolExecutor(max_workers=config.image_workers, thread_name_prefix="package") as pool:
        futures = {pool.submit(build, item): item for item in items}
        for index, (future, item) in enumerate(futures.items(), start=1):
            try:
                rendered, write, seconds = future.result()
            except Exception as exc:  # one bad product never fails the batch; it is recorded
                failed.append((item, f"{type(exc).__name__}: {exc}"))
                context.log.warning(f"package for originProductNo {item.origin_product_no} failed: {exc}")
                continue
            build_seconds.append(seconds)
            done.append(item)
            if write.written:
                built += 1
                bytes_written += write.bytes_written
                recorded.append((item.origin_product_no, config.variant, str(write.path), rendered.content_hash,
                                 write.size_bytes))
            else:
                unchanged += 1
            if index % 200 == 0:
                context.log.info(f"packages: {index}/{len(items)} done")

    with store.connect() as catalog:
        catalog.con.execute("BEGIN TRANSACTION")
        if recorded:
            catalog.con.executemany(
                "INSERT OR REPLACE INTO packages VALUES (?, ?, ?, ?, ?, now())", [list(row) for row in recorded]
            )
        refresh_queue.finish(catalog.con, done, failed)
        catalog.con.execute("COMMIT")
        package_rows = catalog.count("packages")

    metadata = {
        "dagster/row_count": package_rows,
        "packages_claimed": len(items),
        "packages_built": built,
        "packages_unchanged": unchanged,
        "packages_failed": len(failed),
        "package_build_p50_seconds": _round(percentile(build_seconds, 50)),
        "package_build_p95_seconds": _round(percentile(build_seconds, 95)),
        "bytes_written": bytes_written,
        "template_version": renderer.template_version,
        "packages_dir": str(package_writer.root),
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    if items and len(failed) / len(items) > config.max_error_ratio:
        raise dg.Failure(description=f"{len(failed)} of {len(items)} packages failed", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _numbers_table(numbers: list[int]) -> pa.Table:
    return pa.table({"origin_product_no": pa.array(numbers, pa.int64())})
