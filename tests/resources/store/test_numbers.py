"""The compact containers a sync keeps per product (resources/store/numbers.py) behave as the
set, dict and deque they replace, checked against those on random numbers."""

from __future__ import annotations

import random
import sys
from collections import deque

import pytest

from resources.store import DetailLedger, NumberQueue, NumberSet


def test_a_number_set_agrees_with_a_python_set_through_many_adds() -> None:
    rng = random.Random(7)
    ours, theirs = NumberSet(), set()
    for _ in range(300):
        batch = [rng.randrange(10_000_000_000, 10_000_050_000) for _ in range(rng.randrange(0, 600))]
        probe = [rng.randrange(10_000_000_000, 10_000_050_000) for _ in range(200)]
        assert ours.contains(probe).tolist() == [number in theirs for number in probe]
        ours.add(batch)
        theirs.update(batch)
        assert len(ours) == len(theirs)
    assert all(number in ours for number in list(theirs)[:500])
    assert 9_999_999_999 not in ours and "1" not in ours
    assert len(ours._runs) <= 2 * len(theirs).bit_length()  # merged as it grows, not a run per add


def test_a_number_set_of_a_million_costs_about_8_bytes_a_number() -> None:
    numbers = NumberSet()
    for start in range(0, 1_000_000, 500):
        numbers.add(range(start * 3, start * 3 + 1500, 3))
    held = sum(run.nbytes for run in numbers._runs)
    assert len(numbers) == 1_000_000 and held == 8 * 1_000_000
    as_python = sys.getsizeof(set(range(1_000_000)))  # the table alone, before its int objects
    assert held * 4 < as_python


def test_the_detail_ledger_answers_as_the_dict_it_replaces() -> None:
    rng = random.Random(11)
    stored = {rng.randrange(1, 10**10): rng.randrange(0, 2**62) for _ in range(5000)}
    ledger = DetailLedger(list(stored), list(stored.values()))
    probe = list(stored)[:2000] + [rng.randrange(1, 10**10) for _ in range(2000)]
    assert ledger.versions(probe) == [stored.get(number) for number in probe]
    assert ledger.versions(probe, default=-1) == [stored.get(number, -1) for number in probe]
    assert set(ledger) == set(stored) and len(ledger) == len(stored)
    number = next(iter(stored))
    assert number in ledger and ledger.get(number) == stored[number]
    assert DetailLedger().versions([1, 2]) == [None, None] and 1 not in DetailLedger()
    with pytest.raises(ValueError, match="one modifiedDate per product"):
        DetailLedger([1, 2], [3])


def test_a_number_queue_is_first_in_first_out_across_its_chunks() -> None:
    ours, theirs = NumberQueue(), deque()
    rng = random.Random(3)
    for _ in range(200):
        batch = [rng.randrange(0, 2**40) for _ in range(rng.randrange(0, 40))]
        ours.extend(batch)
        theirs.extend(batch)
        for _ in range(rng.randrange(0, 50)):
            if not theirs:
                break
            assert ours.popleft() == theirs.popleft()
        assert len(ours) == len(theirs) and bool(ours) == bool(theirs)
    while theirs:
        assert ours.popleft() == theirs.popleft()
    with pytest.raises(IndexError):
        ours.popleft()
