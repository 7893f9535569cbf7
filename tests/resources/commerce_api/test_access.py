"""Real-world failures end in one line that names the cause and the remedy: a DNS failure (over
MockTransport, so no resolver is needed) and a full disk while writing packages."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import httpx
import pytest

import resources.package_files.writer as package_writer_module
from resources.commerce_api import ApiUnreachableError, CommerceApiClient, RetryPolicy
from resources.package_files.writer import BUILDS, STAGING, DiskFullError, PackageWriter

SECRET = "$2a$04$abcdefghijklmnopqrstuu"
BASE_URL = "http://api.commerce.invalid/external"


def test_a_host_that_does_not_resolve_is_retried_twice_then_named_in_one_line():
    attempts, sleeps = [], []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        try:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    client = CommerceApiClient(base_url=BASE_URL, client_id="app", client_secret=SECRET,
                               retry=RetryPolicy(max_retries=5, backoff_base_seconds=0.25),
                               transport=httpx.MockTransport(handler), sleep=sleeps.append)
    with client, pytest.raises(ApiUnreachableError) as error:
        client.get_origin_product(1)
    line = str(error.value)
    assert len(attempts) == 3  # 2 short retries, not the budget of 5
    assert sum(sleeps) <= 0.25 + 0.5
    assert "\n" not in line and BASE_URL in line and "does not resolve" in line
    assert "NAVER_COMMERCE_BASE_URL" in line and SECRET not in line


# -- disk full -----------------------------------------------------------------------------------

HASH_V1, HASH_V2 = "1" * 16, "2" * 16
FILES_V1 = {"post.html": b"<p>old</p>", "meta.json": b'{"v": 1}'}
FILES_V2 = {"post.html": b"<p>new</p>" * 1000, "meta.json": b'{"v": 2}', "images/01.jpg": b"\xff" * 50_000}


@pytest.fixture
def disk_fills_after(monkeypatch: pytest.MonkeyPatch):
    """Make the writer's file writes raise ENOSPC once `limit` bytes have been written."""
    real_write = package_writer_module._write_unsynced

    def fill(limit: int) -> None:
        written = [0]

        def write(path: Path, data: bytes) -> None:
            room = limit - written[0]
            if len(data) > room:
                with open(path, "wb") as handle:
                    handle.write(data[: max(room, 0)])  # a partial file, as a real full disk leaves
                written[0] = limit
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            written[0] += len(data)
            real_write(path, data)

        monkeypatch.setattr(package_writer_module, "_write_unsynced", write)

    yield fill
    monkeypatch.setattr(package_writer_module, "_write_unsynced", real_write)


def test_a_full_disk_keeps_the_published_package_and_the_next_write_publishes(tmp_path: Path, disk_fills_after,
                                                                              monkeypatch: pytest.MonkeyPatch):
    writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
    writer.write(7, "default", HASH_V1, FILES_V1)
    builds_before = sorted(os.listdir(writer.root / BUILDS))

    disk_fills_after(10_000)
    with pytest.raises(DiskFullError) as error:
        writer.write(7, "default", HASH_V2, FILES_V2)

    line = str(error.value)
    assert line.startswith(f"no space left on device while writing packages in {writer.root}")
    assert "\n" not in line and error.value.errno == errno.ENOSPC
    assert writer.read_file(7, "default", "post.html") == b"<p>old</p>"  # the old package is still what opens
    assert sorted(os.listdir(writer.root / BUILDS)) == builds_before  # no partial version
    assert os.listdir(writer.root / STAGING) == []  # staging cleaned

    monkeypatch.undo()  # space freed
    assert writer.write(7, "default", HASH_V2, FILES_V2).written
    assert writer.read_file(7, "default", "post.html") == FILES_V2["post.html"]
    assert os.listdir(writer.root / STAGING) == []


def test_a_full_disk_while_replacing_the_gallery_leaves_the_old_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    writer = PackageWriter(packages_dir=str(tmp_path / "packages"))
    writer.write_root_file("index.html", b"<html>old</html>")

    def full(path: Path, data: bytes) -> None:
        path.write_bytes(data[:3])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(package_writer_module, "_write_file", full)
    with pytest.raises(DiskFullError):
        writer.write_root_file("index.html", b"<html>new</html>")
    assert (writer.root / "index.html").read_bytes() == b"<html>old</html>"
    assert os.listdir(writer.root / STAGING) == []
