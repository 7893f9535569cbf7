"""Real-world failures over loopback end quickly in one line naming the cause and the remedy: no
stack trace as the message, no retry storm, no secret. The emulator produces the API's refusals;
a second process holds the DuckDB file; a patched low-level write fills the disk."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

import resources.package_files.writer as package_writer_module
from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer
from resources.commerce_api import (
    ApiUnreachableError,
    ClockSkewError,
    CommerceApiClient,
    CredentialsRefusedError,
    IpNotAllowedError,
    QuotaLimitedError,
    RetryPolicy,
)
from resources.package_files.writer import STAGING
from resources.store import DatabaseLockedError, DuckDBStore
from tests.support.project import Project

OTHER_SECRET = "$2a$10$someoneElsesSecretXXXXu"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(products=12, seed=3, rate=500.0, port=0)


def make_client(base_url: str, **kwargs) -> CommerceApiClient:
    kwargs.setdefault("client_id", DEFAULT_CLIENT_ID)
    kwargs.setdefault("client_secret", DEFAULT_CLIENT_SECRET)
    return CommerceApiClient(base_url=base_url, retry=RetryPolicy(max_retries=5, backoff_base_seconds=0.05),
                             initial_rate_per_second=500, **kwargs)


def requests_to(server: EmulatorServer, api: str) -> int:
    return sum(server.stats()["requests"].get(api, {}).values())


def assert_one_line(line: str, *must_contain: str) -> None:
    assert "\n" not in line and "Traceback" not in line
    assert DEFAULT_CLIENT_SECRET not in line and OTHER_SECRET not in line
    for text in must_contain:
        assert text in line


# -- 1. unreachable ------------------------------------------------------------------------------

def test_connection_refused_stops_after_two_short_retries_naming_the_url():
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/external"
    started = time.monotonic()
    with make_client(base_url) as client, pytest.raises(ApiUnreachableError) as error:
        client.tokens.get()
    assert time.monotonic() - started < 2
    assert error.value.attempts == 3
    assert_one_line(str(error.value), base_url, "connection refused", "NAVER_COMMERCE_BASE_URL")


def test_a_dot_invalid_host_is_named_as_a_dns_failure():
    base_url = "http://content-ops.invalid/external"
    started = time.monotonic()
    with make_client(base_url) as client, pytest.raises(ApiUnreachableError) as error:
        client.tokens.get()
    assert time.monotonic() - started < 5
    assert_one_line(str(error.value), base_url, "does not resolve")


# -- 2. credentials ------------------------------------------------------------------------------

@pytest.mark.parametrize("client_id, secret", [(DEFAULT_CLIENT_ID, OTHER_SECRET), ("someone-else", DEFAULT_CLIENT_SECRET)])
def test_wrong_secret_or_client_id_is_refused_once_and_named_without_the_secret(
    emulator: EmulatorServer, client_id: str, secret: str
):
    with make_client(emulator.base_url, client_id=client_id, client_secret=secret) as client, \
            pytest.raises(CredentialsRefusedError) as error:
        client.get_origin_product(1)
    assert requests_to(emulator, "token") == 1  # not retried
    assert requests_to(emulator, "detail") == 0
    assert_one_line(str(error.value), f"refused the credentials for client id '{client_id}'",
                    "NAVER_COMMERCE_CLIENT_SECRET")


# -- 3. IP not registered ------------------------------------------------------------------------

def test_ip_not_allowed_is_not_retried_and_says_to_register_the_ip(emulator: EmulatorServer):
    emulator.inject("detail", "ip_not_allowed", count=10)
    with make_client(emulator.base_url) as client, pytest.raises(IpNotAllowedError) as error:
        client.get_origin_product(1)
    assert requests_to(emulator, "detail") == 1
    assert_one_line(str(error.value), "GW.IP_NOT_ALLOWED", "register this machine's public IP")


# -- 4. clock skew -------------------------------------------------------------------------------

@pytest.mark.parametrize("offset, direction", [(600, "ahead of"), (-900, "behind")])
def test_a_wrong_clock_is_named_with_the_skew_the_date_header_shows(
    emulator: EmulatorServer, offset: float, direction: str
):
    with make_client(emulator.base_url, wall_clock=lambda: time.time() + offset) as client, \
            pytest.raises(ClockSkewError) as error:
        client.tokens.get()
    line = str(error.value)
    assert requests_to(emulator, "token") == 1
    assert_one_line(line, "clock looks off", direction)
    skew = int(line.split("about ")[1].split(" s ")[0])
    assert abs(skew - abs(offset)) <= 3


# -- 5. quota ------------------------------------------------------------------------------------

def test_quota_limit_stops_at_once_with_its_period_and_limit(emulator: EmulatorServer):
    emulator.inject("search", "quota_limit", count=10)
    with make_client(emulator.base_url) as client, pytest.raises(QuotaLimitedError) as error:
        client.search_products(page=1, size=10)
    assert requests_to(emulator, "search") == 1
    assert_one_line(str(error.value), "GW.QUOTA_LIMIT", "1 call(s) per HOURS")


# -- 6. the DuckDB file held by another program --------------------------------------------------

@contextmanager
def held(path: Path) -> Iterator[int]:
    """A second process holding the DuckDB file open for writing, as a SQL tool would; its PID."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys; con = duckdb.connect({str(path)!r}); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield holder.pid
    finally:
        holder.stdin.close()  # type: ignore[union-attr]
        holder.wait(timeout=10)


def test_a_database_file_held_by_another_process_is_named_after_a_short_wait(tmp_path: Path):
    path = tmp_path / "content.duckdb"
    with held(path) as holder_pid, pytest.raises(DatabaseLockedError) as error:
        started = time.monotonic()
        with DuckDBStore(database_path=str(path), lock_wait_seconds=0.5).connect():
            pass
    waited = time.monotonic() - started
    assert 0.5 <= waited < 3
    assert isinstance(error.value, duckdb.IOException)  # the sensors still skip a tick on it
    assert_one_line(str(error.value), str(path), "held by another program", f"PID {holder_pid}")


# -- the runs: the same line as the failure description ------------------------------------------

def failure_description(result) -> str:
    from scripts.run import failure_reason

    return failure_reason(result)


def test_a_sync_run_with_a_wrong_secret_fails_with_the_credentials_line(project: Project, monkeypatch):
    monkeypatch.setenv("NAVER_COMMERCE_CLIENT_SECRET", OTHER_SECRET)
    run = project.materialize(raise_on_error=False)
    assert not run.success
    line = failure_description(run.results[0])
    assert_one_line(line, "refused the credentials for client id", "NAVER_COMMERCE_CLIENT_ID")
    assert requests_to(project.emulator, "token") == 1


def test_a_sync_run_on_a_held_database_fails_with_the_file_line(project: Project):
    with held(project.database_path):
        run = project.materialize(raise_on_error=False)
    assert not run.success
    assert_one_line(failure_description(run.results[0]), str(project.database_path), "held by another program")


def test_a_full_disk_stops_the_package_run_in_one_line_and_the_next_run_recovers(project: Project, monkeypatch):
    assert project.materialize().success  # every package published once
    with project.connect() as catalog:
        numbers = [row[0] for row in catalog.con.execute(
            "SELECT origin_product_no FROM packages ORDER BY origin_product_no").fetchall()]
    before = {n: (project.packages_dir / str(n) / "default" / "post.html").read_bytes() for n in numbers}
    project.emulator.modify(fraction=1.0, seed=1)

    writes: list[Path] = []
    real_write = package_writer_module._write_unsynced

    def full(path: Path, data: bytes) -> None:
        writes.append(path)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(package_writer_module, "_write_unsynced", full)
    # Without the sync's warm-up, which would stage the new versions before the package run.
    no_warmup = {"ops": {"catalog_sync": {"config": {"warm_media": False}}}}
    failed = project.materialize(raise_on_error=False, run_config=no_warmup)
    assert not failed.success
    line = failure_description(failed.results[-1])
    assert_one_line(line, f"no space left on device while writing packages in {project.packages_dir}")
    assert len(writes) <= os.cpu_count() + 1  # stopped at the first, not one failure per package
    for number, post in before.items():  # nothing half-published
        assert (project.packages_dir / str(number) / "default" / "post.html").read_bytes() == post
    assert os.listdir(project.packages_dir / STAGING) == []

    monkeypatch.setattr(package_writer_module, "_write_unsynced", real_write)  # space freed
    assert project.materialize().success
    changed = [n for n in numbers if (project.packages_dir / str(n) / "default" / "post.html").read_bytes() != before[n]]
    assert changed == numbers
