"""Product pictures and videos made ready for their packages while the sync waits on the API.

A sync spends most of its wall time waiting for the detail bucket's next token, and pictures are
not rate-limited (they come from the image CDN). So as details arrive, their pictures are
downloaded, normalized and put in the package image cache on the side, and video keyframes
extracted; `content_packages` then finds them there (by URL and content hash, for the same image
settings) and only renders, zips and writes. Once a chunk of products is in the store, their
packages (default variant) are built too, into the content-addressed `.builds/` but not published:
the package run then finds that exact version by its inputs, without rendering it, and publishes it
with one rename of the link staged beside it (resources/package_files/writer.py). Nothing
here changes a package's bytes: a warmed picture or a staged version is what the build would make.

Best effort, off the sync's path: a failure here is only counted (the build fetches the picture
again and records what goes wrong). When the sync's last detail is in, the sync step ends: it
waits only for the products whose media are being worked on, and drops the rest of the queue
(counted as skipped), which the package run then does, once (what was cached or staged is found
there). So the sync's wall time does not depend on how fast this machine does picture work. At
the real API's 2 requests/s nothing is left by then; `wait_for_media` (sync config) waits for all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from resources.commerce_api import ProductDetail
from resources.package_files.writer import PackageWriter
from resources.store import CatalogStore

from content_assets.packages.media.image_pool import ImagePool, lower_thread_priority
from content_assets.packages.builder import PackageBuilder
from content_assets.packages.plan import (
    DEFAULT_VARIANT,
    PackageProduct,
    PackageRenderer,
    load_package_products,
)
from content_assets.packages.settings import PackageSettingsResource
from content_assets.packages.seller_html import find_video_url

T = TypeVar("T")

# Products whose media wait for a warm-up thread at most; past it new ones are skipped (their
# package build fetches them) rather than queued without bound.
DEFAULT_MAX_PENDING = 5_000
# The warm-up's threads yield the CPU to the sync's (pacing, HTTP, the store writer) when both want it.
WARMUP_NICE = 10


@dataclass
class WarmupReport:
    products_warmed: int = 0
    products_skipped: int = 0  # not started before the sync ended, or the queue was full
    products_failed: int = 0
    images_normalized: int = 0
    images_already_cached: int = 0
    packages_prebuilt: int = 0
    packages_prebuild_failed: int = 0
    keyframe_seconds: float = 0.0
    busy_seconds: float = 0.0  # summed over the warm-up threads
    # What was left when the sync's last detail was in, and how long the sync step waited for it.
    pending_at_close: int = 0
    tail_seconds: float = 0.0


class MediaWarmup:
    """Feeds fetched details' media to a PackageBuilder's cache on `threads` background threads."""

    def __init__(self, builder: PackageBuilder, variants_of: Callable[[int], list[str]] = lambda number: [DEFAULT_VARIANT],
                 *, threads: int = 2, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.builder = builder
        self.variants_of = variants_of
        self.max_pending = max_pending
        self.report = WarmupReport()
        self._executor = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="media-warmup",
                                            initializer=lower_thread_priority, initargs=(WARMUP_NICE,))
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, detail: ProductDetail) -> None:
        # Called from the sync's loop: the seller HTML is searched for a video on a warm-up thread.
        self._queue(self._warm, detail)

    def prebuild_stored(self, catalog: CatalogStore, numbers: Sequence[int]) -> None:
        """Queue the packages of products just written to the store (on the store's thread): their
        rows are what the package run will load, so the version staged here is the one it finds."""
        for product in load_package_products(catalog.con, numbers).values():
            self._queue(self._prebuild, product)

    def _queue(self, function: Callable[..., None], *args: object) -> None:
        with self._lock:
            if len(self._pending) >= self.max_pending:
                self.report.products_skipped += 1
                return
            future = self._executor.submit(function, *args)
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _warm(self, detail: ProductDetail) -> None:
        urls = tuple(url for url in detail.image_urls if url)
        video_url = find_video_url(detail.detail_content)
        if not urls and not video_url:
            return
        timings = self._attempt(lambda: self.builder.prepare_media(urls, video_url), "products_failed")
        if timings is not None:
            with self._lock:
                self.report.products_warmed += 1
                self.report.images_normalized += timings.images_normalized
                self.report.images_already_cached += timings.images_cached
                self.report.keyframe_seconds += timings.keyframe_seconds

    def _prebuild(self, product: PackageProduct) -> None:
        for variant in self.variants_of(product.origin_product_no):
            if self._attempt(lambda: self.builder.prebuild(product, variant), "packages_prebuild_failed"):
                with self._lock:
                    self.report.packages_prebuilt += 1

    def _attempt(self, work: Callable[[], T], failures: str) -> T | None:
        """`work()`, its time added to busy_seconds; an error only counted under `failures`: the
        package run meets the same error and records it."""
        started = time.perf_counter()
        try:
            return work()
        except Exception:  # noqa: BLE001
            with self._lock:
                setattr(self.report, failures, getattr(self.report, failures) + 1)
            return None
        finally:
            with self._lock:
                self.report.busy_seconds += time.perf_counter() - started

    def close(self, *, drop_pending: bool = False) -> WarmupReport:
        """Wait for the queued products' media (or, with `drop_pending`, only for those started).
        Closing again returns the same report."""
        if self._closed:
            return self.report
        self._closed = True
        started = time.perf_counter()
        with self._lock:
            pending = list(self._pending)
        self.report.pending_at_close = len(pending)
        if drop_pending:
            not_started = sum(1 for future in pending if future.cancel())  # callbacks take the lock
            with self._lock:
                self.report.products_skipped += not_started
        self._executor.shutdown(wait=True)
        self.report.tail_seconds = time.perf_counter() - started
        return self.report


@contextmanager
def media_warmup(
    fetch_image: Callable[[str], bytes], package_writer: PackageWriter, package_settings: PackageSettingsResource,
    *, threads: int = 2,
) -> Iterator[MediaWarmup]:
    """A warm-up with the package runs' own settings and variants (`package_settings`), so what it
    stages is what `content_packages` then publishes."""
    renderer = PackageRenderer(package_settings.templates(), package_settings.settings())
    with ImagePool(threads, nice=WARMUP_NICE) as pool, \
            ThreadPoolExecutor(max_workers=4, thread_name_prefix="media-warmup-download",
                               initializer=lower_thread_priority, initargs=(WARMUP_NICE,)) as downloads:
        builder = PackageBuilder(renderer, package_writer, package_writer.image_cache(), fetch_image, pool, downloads)
        warmup = MediaWarmup(builder, package_settings.variants_of, threads=threads)
        try:
            yield warmup
        except BaseException:
            warmup.close(drop_pending=True)  # the sync failed: its run ends now
            raise
        warmup.close()
