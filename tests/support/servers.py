"""Real Postgres and Redis servers for the tests and the benchmarks, each started on a free loopback
port in a temporary folder from Debian's binaries, and stopped with everything it wrote.

Without the binaries a test skips and says which package installs them; under `CI=true` it fails
instead (.ci/run installs them, so a skip there would hide a broken setup). Postgres refuses to run
as root: as root, the server runs as the `postgres` user Debian's package makes (else `nobody`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

START_TIMEOUT_SECONDS = 30.0


def require_binary(path: Path | None, what: str, package: str) -> Path:
    """`path`, or skip (fail under CI=true) naming what is missing and the Debian package."""
    if path is not None:
        return path
    reason = f"{what} not found: `apt-get install {package}` (the tests start their own server on a free port)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true these tests must run")
    pytest.skip(reason)


def postgres_bin_dir() -> Path | None:
    """Where `initdb` and `postgres` are: on PATH, else Debian's newest /usr/lib/postgresql/<v>/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("postgres"):
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def redis_binary() -> Path | None:
    found = shutil.which("redis-server")
    return Path(found) if found else None


def _server_user() -> str | None:
    """The user a server runs as when we are root (Postgres will not run as root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    return None


def _as_user(command: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *command] if user else command


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {START_TIMEOUT_SECONDS:.0f} s")


class PostgresServer:
    """A Postgres cluster of its own (initdb), trust authentication on loopback, user `postgres`.
    `durable=False` (the tests) turns fsync off: nothing here must survive a power cut."""

    def __init__(self, bin_dir: Path, folder: Path, *, durable: bool = False) -> None:
        self.bin_dir, self.folder, self.durable = bin_dir, folder, durable
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        user = _server_user()
        data = self.folder / "data"
        data.mkdir(parents=True)
        if user:
            shutil.chown(self.folder, user)
            shutil.chown(data, user)
        subprocess.run(_as_user([str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                 "--encoding=UTF8", "--locale=C", "--no-sync"], user),
                       check=True, capture_output=True)
        settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
                    "-c", "max_connections=200", "-c", "shared_buffers=128MB"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log = self.folder / "postgres.log"
        self.process = subprocess.Popen(
            _as_user([str(self.bin_dir / "postgres"), "-D", str(data), "-p", str(self.port), *settings], user),
            stdout=log.open("wb"), stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process, log, "postgres")
        self._wait_for_queries()
        return self

    def _wait_for_queries(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:  # listening, still starting up
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # smart shutdown would wait for clients; SIGTERM is "fast" for postgres
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RedisServer:
    """A redis-server of its own, nothing persisted."""

    def __init__(self, binary: Path, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "redis.log"
        self.process = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=log.open("wb"), stderr=subprocess.STDOUT)
        _wait_for_port(self.port, self.process, log, "redis-server")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def postgres_server(*, durable: bool = False) -> Iterator[PostgresServer]:
    """A started Postgres (or a skip, see require_binary), stopped and removed after."""
    bin_dir = require_binary(postgres_bin_dir(), "PostgreSQL's initdb/postgres", "postgresql")
    folder = Path(tempfile.mkdtemp(prefix="content-ops-pg-"))
    server = PostgresServer(bin_dir, folder, durable=durable)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    binary = require_binary(redis_binary(), "redis-server", "redis-server")
    folder = Path(tempfile.mkdtemp(prefix="content-ops-redis-"))
    server = RedisServer(binary, folder)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
