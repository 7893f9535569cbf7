"""`python -m commerce_emulator`: starts on a free port, reports readiness, stops cleanly on SIGTERM;
with many apps it writes their stores file too."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, credentials_env, emulated_apps
from resources.commerce_api.registry import load_registry

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


def test_cli_serves_many_apps_and_writes_their_registry_without_secrets(tmp_path):
    ready_file, registry_file = tmp_path / "ready", tmp_path / "stores.toml"
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [
        sys.executable, "-m", "commerce_emulator", "--products", "30", "--port", "0", "--rate", "50",
        "--self-apps", "2", "--seller-accounts", "2", "--seller-quota-rate", "0.01",
        "--ready-file", str(ready_file), "--registry-out", str(registry_file),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    apps = emulated_apps(2, 2)
    credentials = credentials_env(apps)
    try:
        deadline = time.monotonic() + 10
        while not ready_file.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the emulator never wrote its ready file"
            time.sleep(0.05)
        registry = load_registry(registry_file, environ=credentials)  # written before the ready file
        seller = registry.store("ncp-seller-2")
        client_id, secret = seller.app.credentials(credentials)
        form = {**token_form(client_id, secret), "type": "SELLER", "account_id": seller.account_id}
        with httpx.Client(base_url=seller.api_base_url(credentials), timeout=5) as client:
            token = client.post(TOKEN_PATH, data=form).json()["access_token"]
            searches = [client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {token}"})
                        for _ in range(2)]
        assert [response.status_code for response in searches] == [200, 429]
        assert searches[1].headers["GNCP-GW-Quota-Period"] == "SECONDS"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert sorted(registry.stores) == ["ncp-seller-1", "ncp-seller-2", "self-app-1", "self-app-2"]
    assert "self-app-2" in stdout and "ncp_seller_2" in stdout
    for app in apps:
        assert app.client_secret not in stdout + stderr + registry_file.read_text(encoding="utf-8")
    assert token not in stdout + stderr
