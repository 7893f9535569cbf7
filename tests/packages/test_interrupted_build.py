"""A build killed mid-way (SIGKILL, no clean-up of any kind) leaves the previous package intact and
no half package visible; the next run sweeps the leftovers and finishes the job."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.package_catalog import Packages

ROOT = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def visible_packages_are_whole(root: Path) -> None:
    """Every <no>/<variant> a person can open is a complete build: all its meta's files exist."""
    import json

    for product in root.iterdir():
        if not product.name.isdigit():
            assert product.name in {"index.html", "summary.json", "repeats.json", ".builds", ".staging", ".cache", ".inputs", ".ready"}, product.name
            continue
        for link in product.iterdir():
            assert link.is_symlink() and not link.name.startswith("."), link
            target = link.resolve()
            assert target.parent == (root / ".builds").resolve()
            meta = json.loads((target / "meta.json").read_text())
            for name in ["post.html", "preview.html", "package.zip", "unique-pack.zip"] + meta["uploadOrder"]:
                assert (target / name).is_file(), f"{link}: {name} missing"


def test_killing_the_build_process_mid_way_leaves_the_old_package_intact(built: Packages, tmp_path: Path):
    number = next(p.origin_product_no for p in built.live() if p.image_count >= 2)
    link = built.package(number)
    old_target = link.resolve()
    old_files = snapshot(old_target)
    built.emulator.modify(origin_product_nos=[number])
    built.sync()

    marker = tmp_path / "mid-build"
    child = subprocess.Popen([sys.executable, "-m", "tests.packages.build_until_killed", str(marker)], cwd=ROOT,
                             env=os.environ.copy(), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the build never reached the writer"
            time.sleep(0.05)
        half_written = Path(marker.read_text())
        assert half_written.is_file() and (built.root / ".staging") in half_written.parents
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the child and anything it started
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert link.resolve() == old_target
    assert snapshot(old_target) == old_files
    visible_packages_are_whole(built.root)

    # The killed run held the queue item; once its lease runs out, the next run finishes the job.
    with built.project.connect() as store:
        store.con.execute("UPDATE refresh_queue SET updated_at = now() - INTERVAL 1 HOUR WHERE status = 'in_progress'")
    metadata = built.build()
    assert metadata["packages_built"] == 1 and metadata["packages_failed"] == 0
    assert link.resolve() != old_target and not old_target.exists()
    assert list((built.root / ".staging").iterdir()) == []
    visible_packages_are_whole(built.root)
