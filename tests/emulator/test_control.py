"""The /_emulator/ control endpoints, driven over HTTP as a benchmark or another process would."""

import time

import httpx
import pytest

from tests.support.emulator_calls import SEARCH_PATH, TOKEN_PATH, detail_path, fetch_token, token_form


@pytest.fixture
def control(emulator):
    with httpx.Client(base_url=f"{emulator.root_url}/_emulator", timeout=5) as http:
        yield http


def test_health(emulator, control):
    assert control.get("/health").json() == {"status": "ok", "products": 200, "base_url": emulator.base_url}


def test_modify_and_delete(emulator, control):
    modified = control.post("/modify", json={"fraction": 0.1, "seed": 1}).json()["modified"]
    assert len(modified) == round(0.1 * len(emulator.catalog.live_products()))
    target = emulator.catalog.live_products()[0].origin_product_no
    assert control.post("/modify", json={"origin_product_nos": [target]}).json() == {"modified": [target]}
    assert control.post("/delete", json={"origin_product_nos": [target]}).json() == {"deleted": [target]}
    assert emulator.catalog.get(target).is_deleted


def test_rate_and_latency(emulator, authed, control):
    assert control.post("/rate", json={"rate": 3, "api": "search"}).json()["rates"]["search"] == 3.0
    assert authed.post(SEARCH_PATH, json={}).headers["GNCP-GW-RateLimit-Burst-Capacity"] == "6"
    assert control.post("/latency", json={"mean_ms": 150, "jitter_ms": 0}).json() == {"ok": True}
    started = time.monotonic()
    authed.post(SEARCH_PATH, json={})
    assert time.monotonic() - started >= 0.15


def test_faults_and_inject(emulator, authed, control):
    number = emulator.catalog.live_products()[0].origin_product_no
    assert control.post("/inject", json={"api": "detail", "kind": "503", "count": 1}).status_code == 200
    assert authed.get(detail_path(number)).status_code == 503
    assert control.post("/faults", json={"api": "detail", "http_500": 1.0}).status_code == 200
    assert authed.get(detail_path(number)).status_code == 500
    control.post("/faults", json={"api": "detail"})
    assert authed.get(detail_path(number)).status_code == 200


def test_tokens_expire_tokens_and_penalty(emulator, client, control):
    token = fetch_token(client)
    assert control.get("/tokens").json() == {"tokens": [token]}
    control.post("/expire-tokens")
    assert client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {token}"}).status_code == 401

    client.post(TOKEN_PATH, params=token_form())
    assert client.post(TOKEN_PATH, data=token_form()).json()["code"] == "GW.QUOTA_LIMIT"
    control.post("/clear-penalty")
    assert client.post(TOKEN_PATH, data=token_form()).status_code == 200


def test_stats_and_reset_stats(authed, control):
    authed.post(SEARCH_PATH, json={})
    authed.post(SEARCH_PATH, json={"size": 999})
    stats = control.get("/stats").json()
    assert stats["requests"]["search"] == {"200": 1, "400": 1}
    assert stats["requests"]["token"] == {"200": 1}
    assert stats["token_issued"] == 1
    control.post("/reset-stats")
    assert control.get("/stats").json()["requests"]["search"] == {}


def test_control_endpoints_are_never_rate_limited(start_emulator):
    emulator = start_emulator(rate=1.0)
    with httpx.Client(base_url=f"{emulator.root_url}/_emulator", timeout=5) as control:
        assert {control.get("/stats").status_code for _ in range(10)} == {200}


def test_bad_control_requests_are_explained(control):
    assert control.post("/modify", json={"fraction": 2}).status_code == 400
    assert control.post("/inject", json={"api": "detail", "kind": "teapot"}).status_code == 400
    assert control.post("/delete", json={"origin_product_nos": [1]}).status_code == 400
    assert control.post("/rate", content=b"not json").status_code == 400
    assert control.get("/modify").status_code == 405
    assert control.get("/nothing").status_code == 404
