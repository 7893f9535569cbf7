"""The short versions of the chaos suite's `faults`, `corpus` and `drift` scenarios (`make chaos`
runs the long ones): a flaky gateway and a revoked token, one record of every hostile kind, and a
seller editing products while the sync lists them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.chaos import corpus, drift, faults
from commerce_emulator.hostile import KINDS


@pytest.mark.timeout(300)
def test_a_flaky_gateway_and_a_revoked_token_leave_every_product_synced_or_quarantined(tmp_path: Path):
    result = faults.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    assert result.figures["faults_5xx"] > 0 and result.figures["faults_resets"] > 0
    assert result.figures["tokens_revoked"] == 1 and result.figures["answers_401"] >= 1
    assert result.figures["synced"] + result.figures["quarantined"] == result.figures["products"]
    assert result.figures["duplicates"] == 0 and result.figures["lost"] == 0


@pytest.mark.timeout(300)
def test_every_kind_of_hostile_record_is_rejected_degraded_or_synced_inert(tmp_path: Path):
    result = corpus.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    assert result.figures["kinds"] == len(KINDS)
    expected = {kind: sum(1 for k in KINDS if k.expect == kind) for kind in ("reject", "degrade")}
    assert result.figures["ended_rejected"] >= expected["reject"]
    assert result.figures["ended_degraded"] == expected["degrade"]
    assert result.figures["active_html"] == result.figures["path_escapes"] == 0


@pytest.mark.timeout(300)
def test_products_edited_while_the_sync_lists_them_are_neither_skipped_nor_fetched_twice(tmp_path: Path):
    result = drift.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    for case in ("shrinking", "growing"):
        assert result.figures[f"{case}_edited"] > 0 and result.figures[f"{case}_listing_passes"] >= 2
        assert result.figures[f"{case}_skipped"] == result.figures[f"{case}_fetched_twice"] == 0
    assert result.figures["skipped_with_one_listing_pass"] > 0  # the drift is real
