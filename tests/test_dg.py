"""`dg`, Dagster's project CLI, works on the project beside `dagster dev`: the definitions load, and
every asset and check it lists says what it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DG = Path(sys.executable).parent / "dg"


def dg(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIRTUAL_ENV": str(Path(sys.executable).parents[1])}
    return subprocess.run([str(DG), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_dg_check_defs_loads_the_code_location():
    checked = dg("check", "defs")
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr


def test_dg_lists_every_asset_and_check_with_a_description():
    listed = dg("list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    defs = json.loads(listed.stdout)
    assets = {asset["asset_key"]: asset["description"] for asset in defs["assets"]}
    assert set(assets) == {"product_list", "product_details", "products", "refresh_queue", "content_packages"}
    checks = {check["key"]: check["description"] for check in defs["asset_checks"]}
    assert "products:products_quarantine" in checks and "content_packages:slo_summary" in checks
    assert [key for key, text in {**assets, **checks}.items() if not text] == []
