"""The short version of the chaos suite's `faults` scenario (`make chaos` runs the long one): a flaky
gateway and a revoked token."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.chaos import faults


@pytest.mark.timeout(300)
def test_a_flaky_gateway_and_a_revoked_token_leave_every_product_synced_or_quarantined(tmp_path: Path):
    result = faults.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    assert result.figures["faults_5xx"] > 0 and result.figures["faults_resets"] > 0
    assert result.figures["tokens_revoked"] == 1 and result.figures["answers_401"] >= 1
    assert result.figures["synced"] + result.figures["quarantined"] == result.figures["products"]
    assert result.figures["duplicates"] == 0 and result.figures["lost"] == 0
