"""Fault injection: each kind as a client sees it, ordering of injected and random faults, and their cost."""

import json
import threading
import time

import httpx
import pytest

from tests.support.emulator_calls import SEARCH_PATH, TOKEN_PATH, detail_path, token_form


@pytest.fixture
def live_number(emulator):
    return emulator.catalog.live_products()[0].origin_product_no


def test_reset_drops_the_connection_without_a_response(emulator, authed, live_number):
    emulator.inject("detail", "reset")
    with pytest.raises(httpx.TransportError):
        authed.get(detail_path(live_number))
    assert authed.get(detail_path(live_number)).status_code == 200  # the client reconnects
    stats = emulator.stats()
    assert stats["requests"]["detail"] == {"reset": 1, "200": 1}
    assert stats["faults"] == {"reset": 1}


def test_slow_outlasts_a_short_client_timeout(start_emulator):
    emulator = start_emulator(slow_seconds=2.0)
    emulator.inject("token", "slow")
    with httpx.Client(base_url=emulator.base_url, timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.post(TOKEN_PATH, data=token_form())
        assert time.monotonic() - started < 1.5


def test_slow_answers_normally_once_the_delay_is_over(start_emulator):
    emulator = start_emulator(slow_seconds=30.0)
    emulator.config.slow_seconds = 0.3  # read per request, so a running server can be retuned
    emulator.inject("token", "slow")
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        started = time.monotonic()
        response = client.post(TOKEN_PATH, data=token_form())
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_stop_interrupts_a_request_sleeping_in_a_slow_fault(start_emulator):
    emulator = start_emulator(slow_seconds=30.0)
    emulator.inject("token", "slow")
    outcome: list[object] = []

    def call() -> None:
        try:
            with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
                outcome.append(client.post(TOKEN_PATH, data=token_form()))
        except httpx.TransportError as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    started = time.monotonic()
    emulator.stop()
    caller.join(timeout=5)
    assert time.monotonic() - started < 2
    assert not caller.is_alive()
    assert isinstance(outcome[0], httpx.TransportError)


def test_malformed_is_a_200_with_truncated_json_of_matching_length(emulator, authed):
    emulator.inject("search", "malformed")
    response = authed.post(SEARCH_PATH, json={"size": 3})
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert authed.post(SEARCH_PATH, json={"size": 3}).json()["size"] == 3


@pytest.mark.parametrize(
    "kind, status, code",
    [
        ("500", 500, "GW.INTERNAL_SERVER_ERROR"),
        ("503", 503, "GW.BLOCK.01"),
        ("401", 401, "GW.AUTHN"),
        ("429", 429, "GW.RATE_LIMIT"),
        ("404", 404, "NOT_FOUND"),
    ],
)
def test_error_faults_send_the_documented_responses(emulator, authed, live_number, kind, status, code):
    emulator.inject("detail", kind)
    response = authed.get(detail_path(live_number))
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.headers["GNCP-GW-Trace-ID"]
    assert "Retry-After" not in response.headers
    assert authed.get(detail_path(live_number)).status_code == 200


def test_injected_faults_come_in_order_before_random_ones(emulator, authed, live_number):
    emulator.set_faults("detail", http_500=1.0)
    emulator.inject("detail", "503", count=2)
    emulator.inject("detail", "404")
    codes = [authed.get(detail_path(live_number)).status_code for _ in range(4)]
    assert codes == [503, 503, 404, 500]


def test_random_faults_follow_their_probability_and_seed(emulator, authed, live_number):
    emulator.set_faults("detail", http_500=0.5, seed=11)
    first = [authed.get(detail_path(live_number)).status_code for _ in range(40)]
    emulator.set_faults("detail", http_500=0.5, seed=11)
    second = [authed.get(detail_path(live_number)).status_code for _ in range(40)]
    assert first == second
    assert 8 <= first.count(500) <= 32
    assert set(first) == {200, 500}
    emulator.set_faults("detail")
    assert authed.get(detail_path(live_number)).status_code == 200


def test_faults_only_hit_the_api_they_were_set_for(emulator, authed, live_number):
    emulator.set_faults("search", reset=1.0)
    assert authed.get(detail_path(live_number)).status_code == 200


def test_a_faulted_request_still_spends_a_rate_limit_token(start_emulator):
    emulator = start_emulator(rate=1.0)  # burst of two
    emulator.inject("token", "500")
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        codes = [client.post(TOKEN_PATH, data=token_form()).status_code for _ in range(3)]
    assert codes == [500, 200, 429]


def test_unknown_fault_kind_and_api_are_refused(emulator):
    with pytest.raises(ValueError):
        emulator.inject("detail", "teapot")
    with pytest.raises(ValueError):
        emulator.inject("orders", "500")
    with pytest.raises(ValueError):
        emulator.set_faults("detail", http_500=0.8, reset=0.5)
