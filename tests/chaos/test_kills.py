"""The short version of the chaos suite's `kills` scenario (`make chaos` runs the long one): a user's
runs SIGKILLed at random moments, then one clean run that must converge."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.chaos import kills


@pytest.mark.timeout(300)
def test_runs_killed_at_random_moments_then_one_clean_run_leave_the_store_equal_to_the_catalog(tmp_path: Path):
    result = kills.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    assert result.figures["kills"] >= kills.SHORT.kills
    assert result.figures["kills_in_sync"] >= 1 and result.figures["kills_in_packages"] >= 1, result.figures
    assert result.figures["items_lost"] == 0 and result.figures["duplicates"] == 0
    assert result.figures["clean_run_seconds"] is not None
