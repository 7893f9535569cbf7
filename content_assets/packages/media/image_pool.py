"""The worker threads that do image and video work for a run, with a fixed number of images in flight.

Threads, not processes: Pillow releases the GIL while it decodes, resizes and encodes, and so do
hashlib (sha256) and PyAV's decoder, so two threads normalize about twice as many images a second
as one on two cores. A process pool did no better (pickling every source and result) and cost a
second or more before its first image (a fork server importing Pillow, NumPy, SciPy and PyAV);
its workers also re-imported the caller's `__main__`, so a script without an
`if __name__ == "__main__":` guard re-ran itself in every worker and failed every package.

Memory is bounded by `in_flight`: a slot is taken before an image is downloaded and given back
once its normalized bytes are in the cache, so at most that many source images and results
exist at once, however many products are being built.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Self, TypeVar

T = TypeVar("T")


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value by `nice` where threads have their own (Linux)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    thread_id = threading.get_native_id()
    os.setpriority(os.PRIO_PROCESS, thread_id, min(19, os.getpriority(os.PRIO_PROCESS, thread_id) + nice))


class ImagePool:
    """Started on first use, so a run with nothing to build never starts a thread."""

    def __init__(self, workers: int | None = None, in_flight: int = 16, *, nice: int = 0) -> None:
        """`nice` > 0 lowers the threads' CPU priority (Linux schedules threads on their own), so
        that work done on the side never delays the threads it runs beside."""
        if in_flight < 1:
            raise ValueError(f"in_flight must be >= 1, got {in_flight}")
        self.nice = nice
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.in_flight = in_flight
        self.slots = threading.BoundedSemaphore(in_flight)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        return self._get_executor().submit(function, *args)

    def _get_executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="image",
                                                    initializer=lower_thread_priority, initargs=(self.nice,))
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
