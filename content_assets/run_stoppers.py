"""Failures that stop a run: the API unusable from here, the DuckDB file held, the disk full.

Each is raised by the resource that meets it with a one-line `str()` naming the cause and what to
do. `stops_run` turns them into a `dg.Failure` with that line as its description, which is what
the UI shows and what `make run` prints, instead of a stack trace.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import dagster as dg

from resources.commerce_api import ApiAccessError
from resources.package_files.writer import DiskFullError
from resources.store import DatabaseLockedError

RUN_STOPPERS: tuple[type[Exception], ...] = (ApiAccessError, DatabaseLockedError, DiskFullError)

Compute = TypeVar("Compute", bound=Callable[..., Any])


def stops_run(compute: Compute) -> Compute:
    """Wrap an asset's function (plain or generator) so a run stopper fails it with its one line."""
    if inspect.isgeneratorfunction(compute):

        @functools.wraps(compute)
        def generate(*args: Any, **kwargs: Any) -> Any:
            try:
                return (yield from compute(*args, **kwargs))
            except RUN_STOPPERS as exc:
                raise dg.Failure(description=str(exc)) from None

        return generate  # type: ignore[return-value]

    @functools.wraps(compute)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return compute(*args, **kwargs)
        except RUN_STOPPERS as exc:
            raise dg.Failure(description=str(exc)) from None

    return call  # type: ignore[return-value]
