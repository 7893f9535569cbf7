"""The code location with a stores file: its stores are the partitions, each sync request is tagged
with its store's app, and a bad file stops the load with one line naming the store. Each case
imports the code location in a fresh interpreter, as `dagster dev` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from commerce_emulator import credentials_env, emulated_apps, registry_toml

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json
import dagster as dg
from content_assets.definitions import defs
from content_assets.sync.schedules import sync_stores_schedule
job = defs.resolve_job_def("sync_catalog")
from datetime import datetime, timezone
context = dg.build_schedule_context(repository_def=defs.get_repository_def(),
                                    scheduled_execution_time=datetime(2026, 12, 4, 9, tzinfo=timezone.utc))
requests = sync_stores_schedule.evaluate_tick(context).run_requests
print(json.dumps({
    "partitions": job.partitions_def.get_partition_keys(),
    "job_tags": {key: job.partitioned_config.get_tags_for_partition_key(key)
                 for key in job.partitions_def.get_partition_keys()},
    "schedule": {request.partition_key: request.tags.get("content-ops/app") for request in requests},
}))
"""


def _load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("NAVER_COMMERCE_")}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def test_the_stores_are_the_partitions_and_each_sync_is_tagged_with_its_app(tmp_path: Path):
    apps = emulated_apps(2, 3)
    stores = tmp_path / "stores.toml"
    stores.write_text(registry_toml(apps, "http://127.0.0.1:9/external"), encoding="utf-8")

    loaded = _load({"CONTENT_OPS_STORES": str(stores), **credentials_env(apps)})

    assert loaded.returncode == 0, loaded.stderr[-3000:]
    found = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert found["partitions"] == ["self-app-1", "self-app-2", "ncp-seller-1", "ncp-seller-2", "ncp-seller-3"]
    expected = {"self-app-1": "self-app-1", "self-app-2": "self-app-2", "ncp-seller-1": "agency-app",
                "ncp-seller-2": "agency-app", "ncp-seller-3": "agency-app"}
    assert found["schedule"] == expected
    assert {key: tags["content-ops/app"] for key, tags in found["job_tags"].items()} == expected
    for secret in credentials_env(apps).values():
        if secret.startswith("$2"):
            assert secret not in loaded.stdout + loaded.stderr


def test_a_bad_stores_file_stops_the_load_with_one_line_naming_the_store(tmp_path: Path):
    stores = tmp_path / "stores.toml"
    stores.write_text('[stores.partner-a]\napp = "agency"\naccount_id = "ncp_1"\n', encoding="utf-8")

    loaded = _load({"CONTENT_OPS_STORES": str(stores)})

    assert loaded.returncode != 0
    assert f"stores file {stores}: store 'partner-a': app 'agency' is not in [apps] (there are none)" \
        in loaded.stderr.strip().splitlines()[-1]
