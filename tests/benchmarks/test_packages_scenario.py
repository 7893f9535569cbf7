"""The package scenario's choices: the median pass of several builds, and where package folders are."""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.scenarios.packages import _median_pass, _package_dirs


def test_the_median_pass_by_p95_is_reported_whole_with_every_pass_p95():
    passes = [{"build_p95_seconds": p95, "build_p50_seconds": p95 / 2, "packages_per_minute": 1000 - p95 * 100}
              for p95 in (0.41, 0.18, 0.22)]

    chosen = _median_pass(passes)

    assert chosen["build_p95_seconds"] == 0.22
    assert chosen["build_p50_seconds"] == 0.11 and chosen["packages_per_minute"] == 1000 - 22.0
    assert chosen["passes"] == 3 and chosen["build_p95_seconds_of_passes"] == [0.41, 0.18, 0.22]
    assert "passes" not in passes[2]  # the pass itself is left as it was
    assert _median_pass(passes[:1])["build_p95_seconds"] == 0.41


def test_package_folders_are_found_under_their_store(tmp_path: Path):
    build = tmp_path / "default" / ".builds" / "1001-default-0123456789abcdef"
    build.mkdir(parents=True)
    (tmp_path / "default" / "1001").mkdir()
    os.symlink(os.path.relpath(build, tmp_path / "default" / "1001"), tmp_path / "default" / "1001" / "default")
    (tmp_path / "default" / "index.html").write_text("gallery")

    assert _package_dirs(tmp_path) == [build.resolve()]
