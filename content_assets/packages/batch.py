"""A package run's builds: every job through `PackageBuilder`, published on the calling thread
when its version is on disk already, else built on the package threads, which share one image
pool and one set of download threads.

One bad product never fails the batch: what went wrong is recorded per (product, variant). A full
disk does: after the first ENOSPC no package starts, and every job not yet started fails with it.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from resources.package_files.image_cache import ImageCache
from resources.package_files.writer import DiskFullError, PackageWriter, as_disk_full
from resources.store.refresh_queue import QueueItem

from content_assets.packages.builder import BuildOutcome, PackageBuilder
from content_assets.packages.claim import Job
from content_assets.packages.media.image_pool import ImagePool
from content_assets.packages.plan import PackageProduct, PackageRenderer

if TYPE_CHECKING:
    from content_assets.packages.assets import PackagesConfig


@dataclass(frozen=True)
class BatchResult:
    outcomes: list[BuildOutcome]
    failures: dict[Job, str]  # (product, variant) -> what went wrong
    disk_full: DiskFullError | None  # set: the rest of the run was not attempted
    image_pool_started: bool

    @property
    def built(self) -> list[BuildOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.unchanged]

    @property
    def unchanged(self) -> list[BuildOutcome]:
        return [outcome for outcome in self.outcomes if outcome.unchanged]

    def queue_results(self, items: Sequence[QueueItem]) -> tuple[list[QueueItem], list[tuple[QueueItem, str]]]:
        """The items done, and those failed with their errors: an item is done when every variant
        of its product was built."""
        errors: dict[int, list[str]] = {}
        for (number, _), message in self.failures.items():
            errors.setdefault(number, []).append(message)
        done = [item for item in items if item.origin_product_no not in errors]
        failed = [(item, "; ".join(errors[item.origin_product_no])) for item in items
                  if item.origin_product_no in errors]
        return done, failed


def build_batch(log: dg.DagsterLogManager, config: PackagesConfig, jobs: Sequence[Job],
                products: dict[int, PackageProduct], renderer: PackageRenderer, writer: PackageWriter,
                cache: ImageCache, fetch: Callable[[str], bytes]) -> BatchResult:
    with _older_objects_frozen(), ImagePool(config.image_threads, config.images_in_flight) as pool, \
            ThreadPoolExecutor(max_workers=max(1, config.download_threads), thread_name_prefix="download") as downloads:
        builder = PackageBuilder(renderer, writer, cache, fetch, pool, downloads,
                                 video_max_bytes=config.video_max_bytes, picture_max_bytes=config.picture_max_bytes,
                                 strict_pictures=config.strict_pictures)
        batch = _Batch(log, builder, products, writer.root)
        batch.run(jobs, config.package_threads or os.cpu_count() or 1)
        image_pool_started = pool.started
    return BatchResult(batch.outcomes, batch.failures, batch.disk_full, image_pool_started)


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """A batch allocates much and keeps little; the objects alive before it (a run worker's
    modules and Dagster's state, some 300,000 after a sync in the same process) are kept out of
    the collector's full passes while it runs: 0.17 s of collection in a 982-package run became
    0.01 s. A process that froze objects itself (a forking server) is left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _Batch:
    """The jobs on the package threads, and what became of each."""

    def __init__(self, log: dg.DagsterLogManager, builder: PackageBuilder, products: dict[int, PackageProduct],
                 root: Path) -> None:
        self.log, self.builder, self.products, self.root = log, builder, products, root
        self.out_of_space = threading.Event()  # seen by a package thread: the others start no package
        self.outcomes: list[BuildOutcome] = []
        self.failures: dict[Job, str] = {}
        self.disk_full: DiskFullError | None = None  # set once, by the thread that collects

    def run(self, jobs: Sequence[Job], threads: int) -> None:
        """Each job published on this thread when its version is on disk already, else built on
        the package threads; outcomes collected in job order as they come."""
        with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="package") as pool:
            started: deque[tuple[Future[BuildOutcome], Job]] = deque()
            collected = 0
            for job in jobs:
                started.append((self._start(pool, job), job))
                while started and started[0][0].done():
                    collected += self._collect_next(started, collected, len(jobs))
            while started:
                collected += self._collect_next(started, collected, len(jobs))

    def _start(self, pool: ThreadPoolExecutor, job: Job) -> Future[BuildOutcome]:
        """Publishing a version on disk is a few file operations and much Python: one thread does
        it faster than several fighting for the interpreter (982 staged packages: 0.55 s on one,
        0.69-0.74 s on two, 0.91 s on four). So it is done here, and only packages to build, which
        wait on downloads and pictures, go to the package threads. A job that cannot start (the
        disk is full) fails with it."""
        done: Future[BuildOutcome] = Future()
        if self.out_of_space.is_set():
            done.set_exception(DiskFullError(self.root))
            return done
        started = time.perf_counter()
        try:
            published, inputs = self.builder.publish_on_disk(self._product(job), job[1], started)
        except Exception as exc:  # noqa: BLE001 - recorded for this job by _collect
            self._note_if_disk_full(exc)
            done.set_exception(exc)
            return done
        if published is None:
            return pool.submit(self._build_anew, job, inputs)
        done.set_result(published)
        return done

    def _build_anew(self, job: Job, inputs: str) -> BuildOutcome:
        if self.out_of_space.is_set():
            raise DiskFullError(self.root)
        try:  # timed from here: a build's seconds leave out its wait for a thread
            return self.builder.build_anew(self._product(job), job[1], inputs, time.perf_counter())
        except Exception as exc:
            self._note_if_disk_full(exc)
            raise

    def _product(self, job: Job) -> PackageProduct:
        product = self.products.get(job[0])
        if product is None:
            raise LookupError(f"originProductNo {job[0]} is queued but not in products")
        return product

    def _note_if_disk_full(self, exc: BaseException) -> None:
        if as_disk_full(exc, self.root) is not None:
            self.out_of_space.set()  # seen by every thread: no other package starts

    def _collect_next(self, started: deque[tuple[Future[BuildOutcome], Job]], collected: int, total: int) -> int:
        """Collect the oldest job started (waiting for it); 1 when it ran, else 0."""
        future, job = started.popleft()
        if not self._collect(future, job):
            return 0
        if (collected + 1) % 200 == 0:
            self.log.info(f"packages: {collected + 1}/{total} done")
        return 1

    def _collect(self, future: Future[BuildOutcome], job: Job) -> bool:
        """Wait for one job; False when it was cancelled, never started, because the disk is full."""
        number, variant = job
        if self.disk_full is not None and future.cancel():  # every later package would fail alike
            self.failures[job] = f"{variant}: {self.disk_full}"
            return False
        try:
            self.outcomes.append(future.result())
        except Exception as exc:  # one bad product never fails the batch; it is recorded
            self.failures[job] = f"{variant}: {type(exc).__name__}: {exc}"
            if self.disk_full is None and (disk_full := as_disk_full(exc, self.root)) is not None:
                self.disk_full = disk_full
                self.log.error(str(disk_full))
            elif self.disk_full is None:
                self.log.warning(f"package {number}/{variant} failed: {type(exc).__name__}: {exc}")
        return True
