"""Who holds a refresh-queue claim: the process that made it, named so that another process on the
same machine can tell whether the holder still runs.

A package run killed outright (SIGKILL, an OOM kill, a power cut) leaves its claimed items
`in_progress`. The 30-minute lease frees them at last, but a run started just after the kill would
otherwise wait that long for them: a claim whose holder is gone is free at once. A holder is
"host:pid:start", the process's start time telling a reused pid from the holder; a holder on
another host, or one this machine cannot check, is trusted until its lease runs out.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), None where unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is parenthesised and may hold spaces: fields count from its end.
    return stat.rsplit(")", 1)[1].split()[19]


@functools.cache
def _host() -> str:
    return socket.gethostname()


def current_holder() -> str:
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_ticks(pid) or '-'}"


def is_gone(holder: str) -> bool:
    """True only when `holder` was a process of this machine that no longer runs (a zombie, killed
    and not yet reaped by its parent, counts as gone)."""
    parts = holder.split(":")
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit():
        return False
    pid, started = int(parts[1]), parts[2]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it runs, as another user
    if _is_zombie(pid):
        return True
    now = _start_ticks(pid)
    return started != "-" and now is not None and now != started  # the pid was reused


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
