"""Product numbers held compactly: what a sync keeps per product costs 8 or 16 bytes, not 60-100.

A sync remembers a few things for every product of the catalog: which it has listed, which it has
queued, which detail version the store holds, and what is still to fetch. As Python sets, dicts
and deques of ints these cost 60-100 bytes a product (an int object is 28 bytes, a slot 8-24
more), some 300 MB for a million-product catalog; as int64 arrays they cost 8 bytes a number.

- NumberSet: sorted disjoint runs, merged as they grow (a run is merged into the one before it
  while it is at least half its size), so a lookup searches O(log n) runs.
- DetailLedger: the store's detail ledger, origin_product_no -> modifiedDate (epoch
  microseconds), as two sorted arrays.
- NumberQueue: first in, first out, in array chunks.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence

import numpy as np


def _int64(numbers: Iterable[int]) -> np.ndarray:
    return np.fromiter(numbers, dtype=np.int64) if not isinstance(numbers, np.ndarray) else numbers.astype(np.int64)


def _positions(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `query` is in sorted `keys`, and whether it is there at all."""
    at = np.searchsorted(keys, query)
    inside = at < len(keys)
    found = np.zeros(len(query), dtype=bool)
    found[inside] = keys[at[inside]] == query[inside]
    return at, found


class NumberSet:
    """A set of product numbers at 8 bytes each."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and bool(self.contains([number])[0])

    def contains(self, numbers: Sequence[int] | np.ndarray) -> np.ndarray:
        """For each of `numbers`, whether it is in the set (a bool array)."""
        query = _int64(numbers)
        found = np.zeros(len(query), dtype=bool)
        for run in self._runs:
            found |= _positions(run, query)[1]
        return found

    def add(self, numbers: Iterable[int]) -> None:
        run = np.unique(_int64(numbers))
        run = run[~self.contains(run)]
        if not len(run):
            return
        self._size += len(run)
        runs = self._runs
        runs.append(run)
        while len(runs) >= 2 and 2 * len(runs[-1]) >= len(runs[-2]):
            last = runs.pop()
            runs[-1] = np.union1d(runs[-1], last)


class DetailLedger:
    """origin_product_no -> the modifiedDate (epoch microseconds) its stored detail belongs to."""

    def __init__(self, numbers: np.ndarray | Sequence[int] = (), modified_us: np.ndarray | Sequence[int] = ()) -> None:
        keys, values = np.asarray(numbers, dtype=np.int64), np.asarray(modified_us, dtype=np.int64)
        if len(keys) != len(values):
            raise ValueError("a ledger needs one modifiedDate per product")
        order = np.argsort(keys, kind="stable")
        self._keys, self._values = keys[order], values[order]

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys.tolist())

    def __contains__(self, number: object) -> bool:
        return isinstance(number, int) and bool(_positions(self._keys, _int64([number]))[1][0])

    def get(self, number: int, default: int | None = None) -> int | None:
        return self.versions([number], default)[0]

    def versions(self, numbers: Sequence[int], default: int | None = None) -> list[int | None]:
        """The stored modifiedDate of each of `numbers`, `default` for those with no detail."""
        at, found = _positions(self._keys, _int64(numbers))
        values = self._values[np.where(found, at, 0)].tolist() if len(self._keys) else [0] * len(found)
        return [value if hit else default for value, hit in zip(values, found.tolist(), strict=True)]


class NumberQueue:
    """Product numbers first in, first out, at 8 bytes each."""

    def __init__(self) -> None:
        self._chunks: deque[array] = deque()
        self._head = 0  # the first number of the first chunk not taken yet
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def extend(self, numbers: Iterable[int]) -> None:
        chunk = array("q", numbers)
        if chunk:
            self._chunks.append(chunk)
            self._size += len(chunk)

    def popleft(self) -> int:
        if not self._size:
            raise IndexError("pop from an empty NumberQueue")
        chunk = self._chunks[0]
        number = chunk[self._head]
        self._head += 1
        self._size -= 1
        if self._head == len(chunk):
            self._chunks.popleft()
            self._head = 0
        return number
