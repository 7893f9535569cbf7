"""The process pool that does image and video work for a run, with a fixed number of images in flight.

Decoding, resizing, encoding and hashing are CPU work that holds the GIL, so they run in worker
processes while threads download. Workers come from a fork server that imported Pillow, NumPy,
SciPy and PyAV once: forking it costs milliseconds, and it holds no locks of the parent's
threads (forking the Dagster process itself could inherit a held lock and hang).

Memory is bounded by `in_flight`: a slot is taken before an image is downloaded and given back
once its normalized bytes are in the cache, so at most that many source images and results
exist at once, however many products are being built.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Self, TypeVar

T = TypeVar("T")

# Imported by the fork server before it forks any worker.
_PRELOAD = ["content_assets.image_normalization", "content_assets.keyframes", "scipy.fftpack"]


class ImagePool:
    """Started on first use, so a run with nothing to build never starts a process."""

    def __init__(self, processes: int | None = None, in_flight: int = 16) -> None:
        if in_flight < 1:
            raise ValueError(f"in_flight must be >= 1, got {in_flight}")
        self.processes = max(1, processes or os.cpu_count() or 1)
        self.in_flight = in_flight
        self.slots = threading.BoundedSemaphore(in_flight)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        return self._get_executor().submit(function, *args)

    def _get_executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(_PRELOAD)
                self._executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
            return self._executor

    @property
    def started(self) -> bool:
        return self._executor is not None

    def close(self, *, cancel: bool = False) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=cancel)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self.close(cancel=exc_type is not None)
