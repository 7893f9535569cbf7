"""The upsert scenario at toy size: our upsert beside a bare INSERT of the same rows, as ratios."""

from __future__ import annotations

import statistics

import pytest

from benchmarks.scenarios import upsert


def test_the_upsert_is_measured_against_a_bare_insert_of_the_same_rows():
    figures = upsert.run({"small_rows": 300, "large_rows": 1_200, "repeats": 2, "large_repeats": 2,
                          "row_by_row_sample": 10})

    for size in ("10k", "1m"):
        ours, bare = figures[f"rows_{size}_samples_seconds"], figures[f"bare_insert_{size}_samples_seconds"]
        assert len(ours) == len(bare) == 2  # the arms alternate, as many of each
        # The ratio of the medians (of unrounded samples: rounding the 4th digit of milliseconds).
        assert figures[f"vs_bare_insert_{size}"] == pytest.approx(statistics.median(ours) / statistics.median(bare),
                                                                  rel=0.05)
        assert figures[f"vs_bare_insert_{size}"] > 0
    assert figures["rows_1m_written"] == 1_200
    assert figures["noop_1m_rows_written"] == 0
