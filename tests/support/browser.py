"""Debian's Chromium for the browser tests: where it is, the flags this closed network needs, and
where screenshots go for a person to look at. Without it a test skips, except in CI (`CI=true`),
where a missing browser is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_chromium() -> Path:
    """Chromium's path; skips the test where it is missing, fails it in CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium package (see .ci/run)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); set CI=true to make this a failure")
    return CHROMIUM
