"""Free loopback ports for servers the tests start as subprocesses (`dagster dev`, Postgres, Redis).

A port found free by binding port 0 is free only until the socket closes; the server that is to
take it starts a second or more later. Under pytest-xdist two workers asked for a port at the same
moment were once handed the same one: the second `dagster dev` could not bind, and its test's runs
were launched on the other test's webserver. So each port handed out is also reserved, across
every process on the machine, by a file named after it in a shared folder, holding the pid of the
process that took it; a reservation whose process is gone is free again.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from pathlib import Path

RESERVATIONS = Path(tempfile.gettempdir()) / "content-ops-test-ports"
ATTEMPTS = 200


def free_port() -> int:
    """A loopback port nothing listens on and no other test process has been handed."""
    RESERVATIONS.mkdir(exist_ok=True)
    for _ in range(ATTEMPTS):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if _reserve(port):
            return port
    raise RuntimeError(f"no free loopback port after {ATTEMPTS} tries (reservations in {RESERVATIONS})")


def _reserve(port: int) -> bool:
    path = RESERVATIONS / str(port)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _holder_alive(path):
                return False
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # left by a process that has ended
            continue
        with os.fdopen(fd, "w") as file:
            file.write(str(os.getpid()))
        return True
    return False


def _holder_alive(path: Path) -> bool:
    try:
        pid = int(path.read_text() or "0")
    except (FileNotFoundError, ValueError):
        return True  # being written this instant: treat as taken
    if pid == os.getpid():
        return True  # this process had it before: never twice
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
