"""The API client over loopback against the emulator: tokens, recovery, pacing, secrets."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer
from resources.commerce_api import CommerceApiClient, RetryPolicy


def make_client(server: EmulatorServer, **kwargs) -> CommerceApiClient:
    kwargs.setdefault("retry", RetryPolicy(max_retries=4, backoff_base_seconds=0.05))
    kwargs.setdefault("initial_rate_per_second", server.config.rate)
    return CommerceApiClient(base_url=server.base_url, client_id=DEFAULT_CLIENT_ID,
                             client_secret=DEFAULT_CLIENT_SECRET, **kwargs)


def live_numbers(server: EmulatorServer, n: int) -> list[int]:
    return [p.origin_product_no for p in server.catalog.products if p.status_type != "DELETE"][:n]


def run_together(callers: int, work) -> list[BaseException]:
    barrier = threading.Barrier(callers)
    errors: list[BaseException] = []

    def call(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(products=60, seed=11, rate=500.0, port=0, token_ttl_seconds=3)


def test_16_concurrent_callers_after_a_token_expiry_cause_one_token_request(emulator: EmulatorServer):
    numbers = live_numbers(emulator, 16)
    with make_client(emulator) as client:
        client.get_origin_product(numbers[0])
        issued = emulator.stats()["token_issued"]
        time.sleep(3.1)  # the 3-second token has expired on both sides
        errors = run_together(16, lambda i: client.get_origin_product(numbers[i]))
    assert errors == []
    assert emulator.stats()["token_issued"] == issued + 1
    assert emulator.stats()["requests"]["detail"].get("401", 0) == 0


def test_16_callers_refused_with_401_after_a_server_side_expiry_share_one_new_token(emulator: EmulatorServer):
    numbers = live_numbers(emulator, 16)
    with make_client(emulator) as client:
        client.get_origin_product(numbers[0])
        issued = emulator.stats()["token_issued"]
        emulator.expire_tokens()
        errors = run_together(16, lambda i: client.get_origin_product(numbers[i]))
    assert errors == []
    assert emulator.stats()["token_issued"] == issued + 1
    assert emulator.stats()["requests"]["detail"]["401"] >= 1


def test_recovers_from_a_401_by_fetching_a_token_and_retrying_once(emulator: EmulatorServer):
    number = live_numbers(emulator, 1)[0]
    with make_client(emulator) as client:
        client.get_origin_product(number)
        issued = emulator.stats()["token_issued"]
        emulator.inject("detail", "401", count=1)
        detail = client.get_origin_product(number)
    assert detail.origin_product_no == number
    assert emulator.stats()["token_issued"] == issued + 1


def test_recovers_from_429_with_backoff(emulator: EmulatorServer):
    number = live_numbers(emulator, 1)[0]
    emulator.inject("detail", "429", count=2)
    with make_client(emulator) as client:
        detail = client.get_origin_product(number)
        assert client.stats.total_429 == 2
        assert client.stats.retries == 2
    assert detail.origin_product_no == number


@pytest.mark.parametrize("fault", ["500", "503", "reset", "malformed"])
def test_recovers_from_transient_faults(emulator: EmulatorServer, fault: str):
    number = live_numbers(emulator, 1)[0]
    emulator.inject("detail", fault, count=1)
    with make_client(emulator) as client:
        assert client.get_origin_product(number).origin_product_no == number
        assert client.stats.retries == 1


def test_a_response_slower_than_the_timeout_is_retried(emulator: EmulatorServer):
    emulator.config.slow_seconds = 2.0
    number = live_numbers(emulator, 1)[0]
    emulator.inject("detail", "slow", count=1)
    with make_client(emulator, timeout_seconds=0.5) as client:
        assert client.get_origin_product(number).origin_product_no == number
        assert client.stats.requests_by_endpoint()["detail"]["error"] == 1


def test_paced_client_sees_no_429_at_a_low_rate():
    config = EmulatorConfig(products=60, seed=5, rate=10.0, port=0)
    with EmulatorServer(config) as server:
        numbers = live_numbers(server, 45)
        # start from a wrong guess: the client must learn the rate from the headers
        with make_client(server, initial_rate_per_second=10.0) as client:
            errors = run_together(8, lambda i: [client.get_origin_product(n) for n in numbers[i::8]])
            assert errors == []
            assert client.stats.total_429 == 0
        assert server.stats()["requests"]["detail"].get("429", 0) == 0


def test_secret_and_tokens_never_reach_the_logs(emulator: EmulatorServer, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    numbers = live_numbers(emulator, 3)
    with make_client(emulator) as client:
        for number in numbers:
            client.get_origin_product(number)
        emulator.expire_tokens()
        client.get_origin_product(numbers[0])
        text = caplog.text + repr(client)
    assert caplog.records, "httpx logs each request at DEBUG/INFO; nothing was captured"
    assert DEFAULT_CLIENT_SECRET not in text
    for token in emulator.issued_tokens():
        assert token not in text
