"""The sync assets: product_list -> product_details -> products, and the refresh_queue.

The first three are one multi-asset because their work overlaps (details of page 1 are fetched
while page 2 is listed, and details are upserted as they arrive); each still records its own
materialization and metadata.

All four are partitioned by store (content_assets/stores.py): a run syncs one store, into its own
DuckDB file, through its own app. What a run lists is a window of KST days (window.py): the whole
catalog the first time, then from the store's cursor on. Re-running is idempotent: unchanged
products are skipped by modifiedDate and payload hash.

Whatever a sync stored reaches the refresh queue, even when the run is then judged failed: the
sync enqueues its stored changes before it raises, so no package waits on an unrelated failure.
"""

import functools
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Optional

import dagster as dg

from content_assets.environment import CATALOG_KIND
from content_assets.packages.settings import PackageSettingsResource
from content_assets.run_stoppers import stops_run
from content_assets.stores import APP_TAG, GROUP, store_of, store_partitions, uses_own_settings
from content_assets.sync.engine import ALL_STATUS_TYPES, DEFAULT_MAX_ERROR_RATIO, SyncAborted, run_sync
from content_assets.sync.freshness import products_freshness
from content_assets.sync.media_warmup import MediaWarmup, WarmupReport, media_warmup
from content_assets.sync.report import SyncReport
from content_assets.sync.table_metadata import table_metadata
from content_assets.sync.window import FULL, SyncWindow, kst_today, sync_window
from resources.commerce_api import CommerceApiClient, CommerceApiResource
from resources.commerce_api.registry import Store
from resources.package_files.writer import PackageWriter
from resources.store import CatalogStore, CatalogDatabase, refresh_queue
from resources.store.sync_cursor import advance_cursor, oldest_unsynced_day, read_cursor


class SyncConfig(dg.Config):
    page_size: int = 500
    status_types: list[str] = list(ALL_STATUS_TYPES)
    # Judged on new failures only: products already quarantined that fail for good again do not count.
    max_error_ratio: float = DEFAULT_MAX_ERROR_RATIO
    flush_rows: int = 1000  # details per write at most; at 2 req/s a write every 5 s comes first
    # Download and normalize the fetched products' pictures into the package image cache, and
    # stage their packages (default variant and settings), while the sync waits on the rate
    # limit: content_packages then only publishes them.
    warm_media: bool = True
    warm_media_threads: int = 2
    # The sync step ends when its last detail is stored; the warm-up's unstarted work is left to the
    # package run. True: the step waits until the warm-up has done everything it queued.
    wait_for_media: bool = False
    # Which products are listed (content_assets/sync/window.py): by default from the store's cursor
    # on (the whole catalog the first time); full_refresh lists everything again; modified_from /
    # modified_to (KST days, 2026-12-01) re-sync those days only, leaving the cursor where it is.
    full_refresh: bool = False
    modified_from: Optional[str] = None
    modified_to: Optional[str] = None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def enqueue_stored_changes(catalog: CatalogStore) -> refresh_queue.EnqueueCounts:
    """Enqueue every product whose current version has no package yet, in one transaction."""
    catalog.con.execute("BEGIN TRANSACTION")
    try:
        counts = refresh_queue.enqueue_changed_products(catalog.con)
        catalog.con.execute("COMMIT")
    except Exception:
        catalog.con.execute("ROLLBACK")
        raise
    return counts


def _quarantine_metadata(report: SyncReport, quarantined_total: int) -> dict[str, object]:
    return {
        "quarantined_total": quarantined_total,
        "quarantined_new": report.quarantined_new,
        "skipped_quarantined": report.skipped_quarantined,
        "new_failures": report.new_failures,
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec("product_list", group_name=GROUP, kinds={CATALOG_KIND},
                     description="Every listed product (paged search, 500 a page), in the product_list table."),
        dg.AssetSpec("product_details", deps=["product_list"], group_name=GROUP, kinds={CATALOG_KIND},
                     description="Detail payloads, fetched only for new or changed products."),
        dg.AssetSpec("products", deps=["product_details"], group_name=GROUP, kinds={CATALOG_KIND},
                     description="One row per origin product; unchanged rows are skipped by payload hash.",
                     freshness_policy=products_freshness()),
    ],
    can_subset=False,
    partitions_def=store_partitions,
)
@stops_run
def catalog_sync(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    commerce_api: CommerceApiResource,
    store: CatalogDatabase,
    package_writer: PackageWriter,
    package_settings: PackageSettingsResource,
):
    shop = store_of(context)
    _warn_if_untagged(context, shop)
    client = commerce_api.client_for(shop, configured=uses_own_settings())
    signing_in = _sign_in(client)  # while the store and the warm-up open
    package_writer = package_writer.for_store(shop.key)
    with store.for_store(shop.key).connect() as catalog, ExitStack() as stack:
        window = _window(config, catalog)
        context.log.info(f"store {shop.key}: syncing {window.describe()}")
        warmup = _open_warmup(config, client, package_writer, package_settings, stack)
        token_fetch_seconds = signing_in.result()  # a refused sign-in is raised here
        report, warmed = _sync_with_warmup(context, config, commerce_api, client, warmup, catalog, window)
        list_rows = catalog.count("product_list")
        detail_rows = catalog.count("product_details")
        product_rows = catalog.count("products")
        quarantined_total = catalog.count("sync_quarantine")
        shown = {table: table_metadata(catalog.con, table) for table in ("product_list", "products")}
        failed = report.exceeds(config.max_error_ratio)
        # Enqueued here, before the run is judged: a failed run's stored changes must not wait for
        # the next successful sync (refresh_queue, the asset, does not run after a failure).
        enqueued = enqueue_stored_changes(catalog) if failed else None
        cursor = _advance(catalog, window, context.run.run_id) if not failed else None

    yield dg.MaterializeResult(asset_key="product_list", metadata={
        **_product_list_metadata(report, client, list_rows, token_fetch_seconds),
        **_window_metadata(shop, window, cursor), **shown["product_list"]})
    yield dg.MaterializeResult(asset_key="product_details",
                               metadata=_product_details_metadata(report, client, detail_rows, warmed))
    products_metadata = _products_metadata(report, client, product_rows, quarantined_total)
    if failed:
        assert enqueued is not None
        raise _sync_failure(report, config, products_metadata, enqueued)
    _warn_of_skipped(context, report, quarantined_total)
    yield dg.MaterializeResult(asset_key="products", metadata={**products_metadata, **shown["products"]})


def _window(config: SyncConfig, catalog: CatalogStore) -> SyncWindow:
    cursor = read_cursor(catalog.con)
    try:
        return sync_window(cursor=cursor.synced_from if cursor else None, today=kst_today(),
                           full_refresh=config.full_refresh, modified_from=config.modified_from,
                           modified_to=config.modified_to)
    except ValueError as exc:
        raise dg.Failure(description=f"bad sync config: {exc}") from None


def _advance(catalog: CatalogStore, window: SyncWindow, run_id: str) -> str | None:
    """Move the cursor after a complete sync: to the day it listed up to, or back to the oldest day
    with a product still not synced (a failure, a quarantined product), which must be listed again."""
    if not window.moves_cursor:
        return None
    pending = oldest_unsynced_day(catalog.con)
    day = min(window.modified_to, pending) if pending else window.modified_to
    advance_cursor(catalog.con, day, run_id, full_refresh=window.kind == FULL)
    return day.isoformat()


def _window_metadata(shop: Store, window: SyncWindow, cursor: str | None) -> dict[str, object]:
    return {
        "store": shop.key,
        "sync_window": window.kind,
        "modified_from": window.modified_from.isoformat() if window.modified_from else None,
        "modified_to": window.modified_to.isoformat(),
        "cursor_after": cursor,
    }


def _warn_if_untagged(context: dg.AssetExecutionContext, shop: Store) -> None:
    """A run launched without its app's tag (from the asset graph) is not kept apart from the app's
    other sellers by the run queue: it still paces itself and retries a 429."""
    if context.run.tags.get(APP_TAG) != shop.app.key:
        context.log.warning(f"this run has no {APP_TAG}={shop.app.key} tag, so the run queue does not keep it "
                            "apart from other syncs through the same app; launch the sync_catalog job "
                            "(or let the schedule) to have it queued per app")


def _sign_in(client: CommerceApiClient) -> Future[float]:
    """The client's token, fetched on a thread of its own (a round trip and a bcrypt signature)
    while the step opens its store and its warm-up: the future's result is the fetch's seconds."""
    def fetch() -> float:
        started = time.perf_counter()
        client.tokens.get()
        return time.perf_counter() - started

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sign-in")
    try:
        return executor.submit(fetch)
    finally:
        executor.shutdown(wait=False)


def _open_warmup(config: SyncConfig, client: CommerceApiClient, package_writer: PackageWriter,
                 package_settings: PackageSettingsResource, stack: ExitStack) -> MediaWarmup | None:
    """The media warm-up, held open on `stack` (the caller's), with the package runs' settings."""
    if not config.warm_media:
        return None
    # One try per picture: the warm-up is best effort, and a slow or failing CDN must not
    # hold the sync step through the retries (the package build retries and records).
    warm_fetch = functools.partial(client.fetch_image, retries=0)
    return stack.enter_context(media_warmup(warm_fetch, package_writer, package_settings,
                                            threads=config.warm_media_threads))


def _sync_with_warmup(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    commerce_api: CommerceApiResource,
    client: CommerceApiClient,
    warmup: MediaWarmup | None,
    catalog: CatalogStore,
    window: SyncWindow,
) -> tuple[SyncReport, WarmupReport | None]:
    """run_sync with the media warm-up fed what it fetches and stores. A sync that stops
    enqueues what it stored before it did, then fails the step."""
    try:
        report = run_sync(
            client,
            catalog,
            modified_from=window.modified_from,
            modified_to=window.modified_to,
            page_size=config.page_size,
            status_types=config.status_types,
            max_concurrency=commerce_api.max_concurrency,
            flush_rows=config.flush_rows,
            run_id=context.run.run_id,
            max_error_ratio=config.max_error_ratio,
            log=context.log.info,
            on_detail=warmup.submit if warmup else None,
            on_stored=warmup.prebuild_stored if warmup else None,
        )
    except SyncAborted as exc:
        enqueued = enqueue_stored_changes(catalog)  # what it stored before stopping still counts
        raise dg.Failure(description=str(exc), metadata={
            "api_requests_total": client.stats.requests_by_endpoint(),
            "refresh_queue_enqueue_total": enqueued.total,
        }) from exc
    return report, (warmup.close(drop_pending=not config.wait_for_media) if warmup else None)


def _product_list_metadata(
    report: SyncReport, client: CommerceApiClient, list_rows: int, token_fetch_seconds: float
) -> dict[str, object]:
    search_latency = client.stats.attempt_latency_percentiles("search")
    return {
        "dagster/row_count": list_rows,
        "products_listed": report.listed,
        "pages": report.pages,
        "listing_passes": report.listing_passes,
        "listing_repeats": report.listing_repeats,
        "token_fetch_seconds": round(token_fetch_seconds, 3),
        "list_fetch_seconds": round(report.list_fetch_seconds, 3),
        "list_fetch_p95_ms": _ms(search_latency["p95"]),
        "no_change_skip_total": report.unchanged_skipped,
        "malformed_list_entries": report.listed_bad_entries,
    }


def _product_details_metadata(
    report: SyncReport, client: CommerceApiClient, detail_rows: int, warmed: WarmupReport | None
) -> dict[str, object]:
    stats = client.stats
    return {
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
        "api_requests_total": stats.requests_by_endpoint(),
        "api_429_total": stats.total_429,
        "retry_total": stats.retries,
        **_warmup_metadata(warmed),
    }


def _warmup_metadata(warmed: WarmupReport | None) -> dict[str, object]:
    """The media warm-up's figures, none when it did not run."""
    if warmed is None:
        return {}
    return {
        "media_warmed_products": warmed.products_warmed,
        "media_warmed_images": warmed.images_normalized + warmed.images_already_cached,
        "media_warm_skipped_products": warmed.products_skipped,
        "media_warm_failed_products": warmed.products_failed,
        "media_warm_busy_seconds": round(warmed.busy_seconds, 3),
        "media_warm_pending_at_end": warmed.pending_at_close,
        "media_warm_tail_seconds": round(warmed.tail_seconds, 3),
        "packages_prebuilt": warmed.packages_prebuilt,
        "packages_prebuild_failed": warmed.packages_prebuild_failed,
    }


def _products_metadata(
    report: SyncReport, client: CommerceApiClient, product_rows: int, quarantined_total: int
) -> dict[str, object]:
    floor = client.rate_limit_floor_seconds()
    return {
        "dagster/row_count": product_rows,
        "rows_inserted": report.upsert.inserted,
        "rows_updated": report.upsert.updated,
        "rows_unchanged": report.upsert.unchanged,
        "rows_written": report.upsert.rows_written,
        "db_upsert_seconds": round(report.db_seconds, 3),
        "sync_total_seconds": round(report.total_seconds, 3),
        "rate_limit_floor_seconds": round(floor, 3),
        "sync_efficiency": round(floor / report.total_seconds, 4) if report.total_seconds else None,
        "upsert_seconds_per_10k_rows": (
            round(report.db_seconds / report.upsert.rows_written * 10_000, 4) if report.upsert.rows_written else None
        ),
        "error_ratio": round(report.error_ratio, 4),
        "api_requests_total_count": client.stats.total_requests,
        **_quarantine_metadata(report, quarantined_total),
    }


def _sync_failure(
    report: SyncReport, config: SyncConfig, products_metadata: dict[str, object],
    enqueued: refresh_queue.EnqueueCounts,
) -> dg.Failure:
    """A sync with more new failures than allowed: the step fails, after its stored changes were enqueued."""
    return dg.Failure(
        description=(
            f"{report.new_failures} product(s) failed ({report.error_ratio:.1%}), more than the "
            f"allowed {config.max_error_ratio:.1%}; see the sync_errors table "
            f"({enqueued.total} stored change(s) enqueued for packages)"
        ),
        metadata={**products_metadata, "refresh_queue_enqueue_total": enqueued.total},
    )


def _warn_of_skipped(context: dg.AssetExecutionContext, report: SyncReport, quarantined_total: int) -> None:
    if report.errors:
        context.log.warning(f"{len(report.errors)} product(s) skipped after errors; see the sync_errors table")
    if quarantined_total:
        context.log.warning(
            f"{quarantined_total} product(s) quarantined ({report.quarantined_new} new, "
            f"{report.skipped_quarantined} held back this run); see the sync_quarantine table"
        )


@dg.asset(name="refresh_queue", deps=["products"], group_name=GROUP, kinds={CATALOG_KIND},
          partitions_def=store_partitions,
          description="Products whose current version has no content package yet.")
def refresh_queue_asset(context: dg.AssetExecutionContext, store: CatalogDatabase) -> dg.MaterializeResult:
    # Whatever the window listed, every product of the store whose current version has no package
    # yet is enqueued (idempotent), so a product changed again elsewhere is not missed.
    started = time.perf_counter()
    with store.for_store(context.partition_key).connect() as catalog:
        counts = enqueue_stored_changes(catalog)
        by_status = refresh_queue.status_counts(catalog.con)
        shown = table_metadata(catalog.con, "refresh_queue")
    return dg.MaterializeResult(
        metadata={
            "refresh_queue_enqueue_total": counts.total,
            "enqueued_new": counts.new,
            "enqueued_changed": counts.changed,
            "pending": by_status.get(refresh_queue.PENDING, 0),
            "dagster/row_count": sum(by_status.values()),
            "enqueue_seconds": round(time.perf_counter() - started, 3),
            **shown,
        }
    )
