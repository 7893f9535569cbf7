"""The short version of the chaos suite's `corpus` scenario (`make chaos` runs the long one): one
record of every hostile kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.chaos import corpus
from commerce_emulator.hostile import KINDS


@pytest.mark.timeout(300)
def test_every_kind_of_hostile_record_is_rejected_degraded_or_synced_inert(tmp_path: Path):
    result = corpus.run(short=True, workdir=tmp_path)

    assert result.passed, "\n".join(result.problems)
    assert result.figures["kinds"] == len(KINDS)
    expected = {kind: sum(1 for k in KINDS if k.expect == kind) for kind in ("reject", "degrade")}
    assert result.figures["ended_rejected"] >= expected["reject"]
    assert result.figures["ended_degraded"] == expected["degrade"]
    assert result.figures["active_html"] == result.figures["path_escapes"] == 0
