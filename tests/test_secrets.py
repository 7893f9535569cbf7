"""The client secret and access tokens never leave where the user put them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from commerce_emulator import DEFAULT_CLIENT_SECRET, EmulatorConfig
from resources.store.postgres.store import close_pools
from tests.support.project import Project, project_at


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # Short-lived tokens and a detail rate that makes the sync last several seconds (its burst of
    # 80 covers 80 of the 200 products, the rest take 3 s), so that the run goes through several.
    # Not shorter than 3 s: the client renews a token at 90% of its life, and a 1 s token, renewed
    # with 0.1 s left, could expire on its way on a loaded machine (a 401 that retrying cannot fix).
    return EmulatorConfig(products=200, seed=7, rate=40.0, port=0, token_ttl_seconds=3)


def test_secret_and_tokens_are_absent_from_logs_and_the_instance_after_a_run(
    project: Project, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
):
    caplog.set_level(logging.DEBUG)
    result = project.materialize()
    assert result.success

    tokens = project.emulator.issued_tokens()
    assert len(tokens) >= 2
    captured = capfd.readouterr()
    texts = [caplog.text, captured.out, captured.err]
    for record in project.instance.all_logs(result.run_id):
        texts.append(repr(record))
    # Every file the run left behind: the Dagster instance (runs, event log, compute logs),
    # the DuckDB file and the packages.
    stored = b"".join(path.read_bytes() for path in Path(project.dagster_home).parent.rglob("*") if path.is_file()
                      and not path.is_symlink())
    assert len(stored) > 0
    for secret in [DEFAULT_CLIENT_SECRET, *tokens]:
        for text in texts:
            assert secret not in text
        assert secret.encode() not in stored


def test_the_catalog_database_password_is_absent_from_logs_the_instance_and_the_packages(
    emulator, tmp_path: Path, postgres, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
):
    password = "pw-of-the-catalog-7f3a"  # the test server trusts loopback: any password is accepted
    url = postgres.create_database().replace("postgres@", f"postgres:{password}@")
    caplog.set_level(logging.DEBUG)
    with project_at(tmp_path, emulator, database_url=url) as project:
        result = project.materialize()
        assert result.success
        logs = [repr(record) for run in result.results for record in project.instance.all_logs(run.run_id)]
    captured = capfd.readouterr()
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and not path.is_symlink())
    for text in [caplog.text, captured.out, captured.err, *logs]:
        assert password not in text
    assert password.encode() not in stored
    close_pools(url)
