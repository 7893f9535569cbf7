"""The tests' free ports (tests/support/ports.py): never handed to two live processes at once; and a
`dagster dev` whose port another webserver answers is never taken for loaded."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

import pytest

from tests.support import ports
from tests.support.live_dagster import LiveDagster, _wait_until_loaded

ROOT = ports.Path(__file__).resolve().parents[1]
# A child takes 40 ports, prints them and stays alive (stdin held open) so they stay reserved.
CHILD = """
import sys
import tests.support.ports as ports
ports.RESERVATIONS = ports.Path(sys.argv[1])
print(*(ports.free_port() for _ in range(40)), flush=True)
sys.stdin.read()
"""


def test_processes_asking_at_the_same_moment_never_get_the_same_port(tmp_path, monkeypatch):
    monkeypatch.setattr(ports, "RESERVATIONS", tmp_path)
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        handed = [str(ports.free_port()) for _ in range(40)]
        for child in children:
            handed += child.stdout.readline().split()
    finally:
        for child in children:
            child.communicate("")
    assert len(handed) == 200 and len(set(handed)) == 200
    assert {path.name for path in tmp_path.iterdir()} == set(handed)


def test_a_port_reserved_by_a_process_that_ended_is_handed_out_again(tmp_path, monkeypatch):
    monkeypatch.setattr(ports, "RESERVATIONS", tmp_path)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    port = ports.free_port()
    (tmp_path / str(port)).write_text(ended.stdout.strip())  # as if the ended process had taken it
    assert ports._reserve(port)
    assert (tmp_path / str(port)).read_text() == str(ports.os.getpid())
    assert not ports._reserve(port)  # and now this process holds it: not twice


def test_a_webserver_of_another_instance_on_the_port_is_not_taken_for_ours(tmp_path):
    """What two tests handed one port saw: the port answered, loaded, but by the other's instance."""
    other_home = tmp_path / "other_home"

    class OtherDagster(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = {"data": {"instance": {"info": f"base_dir: {other_home}"},
                             "workspaceOrError": {"locationEntries": [{"name": "content_ops", "loadStatus": "LOADED"}]}}}
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OtherDagster)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log = tmp_path / "dagster-dev.log"
    log.write_text("")
    live = LiveDagster(f"http://127.0.0.1:{server.server_address[1]}", tmp_path / "dagster_home",
                       tmp_path / "content.duckdb", tmp_path / "packages", log)
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(RuntimeError, match="did not load"):
            _wait_until_loaded(live, ours, timeout=2)
        log.write_text("ERROR: [Errno 98] error while attempting to bind on address: address already in use\n")
        with pytest.raises(RuntimeError, match="another process holds it"):
            _wait_until_loaded(live, ours, timeout=10)
    finally:
        ours.kill()
        server.shutdown()
