"""The content_packages asset: a Naver Blog package for every product waiting in the refresh queue."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import dagster as dg
import pyarrow as pa

from resources.commerce_api import CommerceApiResource, percentile
from resources.package_writer import PackageWriter
from resources.store import DuckDBStore, refresh_queue

from .packaging import DEFAULT_DISCLOSURE, PackageProduct, PackageRenderer, package_files
from .settings import GROUP, POOL


class PackagesConfig(dg.Config):
    variant: str = "default"
    disclosure: str = DEFAULT_DISCLOSURE
    max_items: Optional[int] = None
    image_workers: int = 8
    max_attempts: int = 3
    max_error_ratio: float = 0.2


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
