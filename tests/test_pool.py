"""The duckdb pool has its limit before the first run is queued on a fresh instance."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from content_assets.pool import ensure_pool_limit
from tests.support.live_dagster import ROOT


def test_a_fresh_instance_gets_the_duckdb_pool_limit_from_dagster_yaml(tmp_path: Path):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert "duckdb" not in instance.event_log_storage.get_concurrency_keys()

        assert ensure_pool_limit(instance)

        assert [(pool.name, pool.limit) for pool in instance.event_log_storage.get_pool_limits()] == [("duckdb", 1)]
        assert instance.get_concurrency_config().pool_config.pool_granularity.value == "run"


def test_a_limit_set_by_hand_is_left_alone(tmp_path: Path):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        instance.event_log_storage.set_concurrency_slots("duckdb", 2)

        assert not ensure_pool_limit(instance)

        assert [(pool.name, pool.limit) for pool in instance.event_log_storage.get_pool_limits()] == [("duckdb", 2)]
