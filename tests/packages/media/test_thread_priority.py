"""Work done on the side (the sync's picture warm-up) runs at a lower CPU priority than the sync."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from content_assets.packages.media.image_pool import ImagePool


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads have their own nice value on Linux only")
def test_a_niced_pool_runs_its_work_at_a_lower_priority_and_leaves_the_caller_alone():
    caller = _own_nice()
    with ImagePool(2, nice=5) as niced, ImagePool(2) as plain:
        assert niced.submit(_own_nice).result() == min(19, caller + 5)
        assert plain.submit(_own_nice).result() == caller
    assert _own_nice() == caller
