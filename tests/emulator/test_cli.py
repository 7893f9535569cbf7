"""`python -m commerce_emulator`: starts on a free port, reports readiness, stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from tests.support.emulator_calls import SEARCH_PATH, TOKEN_PATH, token_form

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_on_a_free_port_and_exits_0_on_sigterm(tmp_path):
    ready_file = tmp_path / "ready"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    environment.pop("NAVER_COMMERCE_CLIENT_ID", None)
    environment.pop("NAVER_COMMERCE_CLIENT_SECRET", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "commerce_emulator",
            "--products",
            "50",
            "--rate",
            "5",
            "--port",
            "0",
            "--seed",
            "1",
            "--ready-file",
            str(ready_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 10
        while not ready_file.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the emulator never wrote its ready file"
            time.sleep(0.05)
        base_url = ready_file.read_text().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/external")

        with httpx.Client(base_url=base_url, timeout=5) as client:
            # The default credentials, with the default (cost 10) secret, work end to end.
            token_response = client.post(TOKEN_PATH, data=token_form(client_secret=DEFAULT_CLIENT_SECRET))
            assert token_response.status_code == 200
            token = token_response.json()["access_token"]
            search = client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {token}"})
            assert search.headers["GNCP-GW-RateLimit-Replenish-Rate"] == "5"
            assert search.json()["totalElements"] <= 50

        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert base_url in stdout and DEFAULT_CLIENT_ID in stdout
    assert DEFAULT_CLIENT_SECRET not in stdout + stderr
    assert token not in stdout + stderr
