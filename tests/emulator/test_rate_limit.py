"""Gateway token buckets: burst then 429 without Retry-After, refill, per-API buckets and headers everywhere."""

import time

import httpx
import pytest

from commerce_emulator import EmulatorConfig
from commerce_emulator.__main__ import parse_args
from commerce_emulator.rate_limit import RateLimiter

from tests.support.emulator_calls import SEARCH_PATH, TOKEN_PATH, detail_path, fetch_token, token_form

RATE_HEADERS = ("GNCP-GW-RateLimit-Replenish-Rate", "GNCP-GW-RateLimit-Burst-Capacity", "GNCP-GW-RateLimit-Remaining")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slow_emulator(start_emulator):
    """Two requests per second per API: a burst of four."""
    return start_emulator(rate=2.0)


@pytest.fixture
def slow_client(slow_emulator):
    with httpx.Client(base_url=slow_emulator.base_url, timeout=5) as client:
        client.headers["Authorization"] = f"Bearer {fetch_token(client)}"
        yield client


def test_burst_then_429_rate_limit_without_retry_after(slow_emulator, slow_client):
    responses = [slow_client.post(SEARCH_PATH, json={"size": 1}) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert [r.headers["GNCP-GW-RateLimit-Remaining"] for r in responses] == ["3", "2", "1", "0", "0"]
    limited = responses[-1]
    assert limited.headers["GNCP-GW-RateLimit-Replenish-Rate"] == "2"
    assert limited.headers["GNCP-GW-RateLimit-Burst-Capacity"] == "4"
    assert "Retry-After" not in limited.headers
    body = limited.json()
    assert body["code"] == "GW.RATE_LIMIT"
    assert body["message"] == "요청이 많아 서비스를 일시적으로 사용할 수 없습니다."
    assert body["traceId"] == limited.headers["GNCP-GW-Trace-ID"]
    assert body["timestamp"].endswith("+09:00")
    assert slow_emulator.stats()["rate_limited"] == 1


def test_bucket_refills_continuously(slow_client):
    while slow_client.post(SEARCH_PATH, json={"size": 1}).status_code == 200:
        pass
    time.sleep(0.6)  # 2 tokens/s: one token back after 0.5 s
    assert slow_client.post(SEARCH_PATH, json={"size": 1}).status_code == 200
    assert slow_client.post(SEARCH_PATH, json={"size": 1}).status_code == 429


def test_search_and_detail_have_separate_buckets(slow_emulator, slow_client):
    while slow_client.post(SEARCH_PATH, json={"size": 1}).status_code == 200:
        pass
    number = slow_emulator.catalog.live_products()[0].origin_product_no
    assert slow_client.get(detail_path(number)).status_code == 200


def test_rate_limit_is_checked_before_authentication(start_emulator):
    emulator = start_emulator(rate=1.0)
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        codes = [client.post(SEARCH_PATH, json={}).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_every_api_response_carries_trace_id_and_rate_limit_headers(emulator, authed):
    responses = [
        authed.post(TOKEN_PATH, data=token_form()),  # 200
        authed.post(TOKEN_PATH, data={"type": "SELF"}),  # 400
        authed.post(SEARCH_PATH, json={"size": 501}),  # 400
        authed.get(detail_path(1)),  # 404
        authed.post(SEARCH_PATH, json={}, headers={"Authorization": "Bearer wrong"}),  # 401
    ]
    emulator.inject("detail", "500")
    responses.append(authed.get(detail_path(1)))
    assert [r.status_code for r in responses] == [200, 400, 400, 404, 401, 500]
    trace_ids = [r.headers["GNCP-GW-Trace-ID"] for r in responses]
    assert len(set(trace_ids)) == len(trace_ids)
    for response in responses:
        assert all(response.headers.get(name) for name in RATE_HEADERS), response.headers


def test_set_rate_changes_one_api_and_refills_its_bucket(slow_emulator, slow_client):
    while slow_client.post(SEARCH_PATH, json={"size": 1}).status_code == 200:
        pass
    slow_emulator.set_rate(5.0, api="search")
    response = slow_client.post(SEARCH_PATH, json={"size": 1})
    assert response.status_code == 200
    assert response.headers["GNCP-GW-RateLimit-Burst-Capacity"] == "10"
    assert response.headers["GNCP-GW-RateLimit-Remaining"] == "9"
    number = slow_emulator.catalog.live_products()[0].origin_product_no
    assert slow_client.get(detail_path(number)).headers["GNCP-GW-RateLimit-Replenish-Rate"] == "2"


def test_buckets_are_per_client_and_per_api():
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, clock=clock)
    assert [limiter.acquire("detail", "app").allowed for _ in range(3)] == [True, True, False]
    assert limiter.acquire("detail", "other-app").allowed
    assert limiter.acquire("search", "app").allowed
    clock.now += 0.99
    assert not limiter.acquire("detail", "app").allowed
    clock.now += 0.02
    assert limiter.acquire("detail", "app").allowed
    clock.now += 100
    assert limiter.peek("detail", "app").remaining == 2  # never above the burst capacity


def test_whole_second_buckets_refill_a_seconds_worth_at_each_second_boundary():
    # Spring Cloud Gateway's limiter: `rate` tokens per second boundary crossed since the last
    # request, none in between, however much time has passed within the second.
    clock = FakeClock()
    clock.now = 10.2
    limiter = RateLimiter(2.0, clock, refill="whole-seconds")
    assert [limiter.acquire("detail", "app").allowed for _ in range(5)] == [True] * 4 + [False]
    clock.now = 10.95  # 0.75 s later, the same second: nothing yet
    assert not limiter.acquire("detail", "app").allowed
    clock.now = 11.01  # 0.06 s later, a new second: its two tokens at once
    assert [limiter.acquire("detail", "app").allowed for _ in range(3)] == [True, True, False]
    clock.now = 13.5  # two boundaries: four tokens, the burst
    assert limiter.acquire("detail", "app").remaining == 3

    continuous = RateLimiter(2.0, clock)
    clock.now = 20.2
    assert [continuous.acquire("detail", "app").allowed for _ in range(5)] == [True] * 4 + [False]
    clock.now = 20.95
    assert continuous.acquire("detail", "app").allowed  # 1.5 tokens came in the same 0.75 s
    with pytest.raises(ValueError, match="refill must be one of"):
        RateLimiter(2.0, clock, refill="hourly")
    with pytest.raises(ValueError, match="refill must be one of"):
        EmulatorConfig(refill="hourly")
    assert parse_args(["--refill", "whole-seconds"]).refill == "whole-seconds"
