"""The short version of the chaos suite's `drift` scenario (`make chaos` runs the long one): a seller
editing products while the sync lists them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.chaos import drift


@pytest.mark.timeout(300)
def test_products_edited_while_the_sync_lists_them_are_neither_skipped_nor_fetched_twice(tmp_path: Path):
    result = drift.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    for case in ("shrinking", "growing"):
        assert result.figures[f"{case}_edited"] > 0 and result.figures[f"{case}_listing_passes"] >= 2
        assert result.figures[f"{case}_skipped"] == result.figures[f"{case}_fetched_twice"] == 0
    assert result.figures["skipped_with_one_listing_pass"] > 0  # the drift is real
