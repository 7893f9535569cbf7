"""Edge cases of the client, over httpx.MockTransport (the emulator covers the real wire)."""

import json
import threading
import time

import httpx
import pytest

from resources.commerce_api import (
    ClientRequestError,
    CommerceApiClient,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    TransientError,
)

SECRET = "$2a$04$abcdefghijklmnopqrstuu"
LIMIT_HEADERS = {"GNCP-GW-RateLimit-Replenish-Rate": "1000", "GNCP-GW-RateLimit-Burst-Capacity": "2000",
                 "GNCP-GW-RateLimit-Remaining": "1999", "GNCP-GW-Trace-ID": "trace-1"}
DETAIL = {"originProduct": {"statusType": "SALE", "name": "상품", "salePrice": 1000, "stockQuantity": 3,
                            "detailContent": "<p>x</p>", "images": {"representativeImage": {"url": "http://i/1.jpg"}}}}


def make_client(handler, **kwargs) -> CommerceApiClient:
    kwargs.setdefault("retry", RetryPolicy(max_retries=3, backoff_base_seconds=0.0))
    return CommerceApiClient(base_url="http://api.test/external", client_id="app", client_secret=SECRET,
                             initial_rate_per_second=1000, transport=httpx.MockTransport(handler), **kwargs)


def token_response(token="tok-1", expires_in=10800):
    return httpx.Response(200, json={"access_token": token, "expires_in": expires_in, "token_type": "Bearer"},
                          headers=LIMIT_HEADERS)


def test_token_request_is_a_signed_form_body_with_nothing_in_the_query():
    seen = {}

    def handler(request: httpx.Request):
        if request.url.path.endswith("/oauth2/token"):
            seen["query"] = request.url.query
            seen["content_type"] = request.headers["content-type"]
            seen["form"] = dict(httpx.QueryParams(request.content.decode()))
            return token_response()
        return httpx.Response(200, json=DETAIL, headers=LIMIT_HEADERS)

    with make_client(handler) as client:
        client.get_origin_product(1)
    assert seen["query"] == b""
    assert seen["content_type"] == "application/x-www-form-urlencoded"
    assert seen["form"]["type"] == "SELF" and seen["form"]["grant_type"] == "client_credentials"
    assert len(seen["form"]["timestamp"]) == 13
    assert SECRET not in json.dumps(seen["form"])


def test_other_4xx_is_not_retried_and_names_the_product():
    calls = []

    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            return token_response()
        calls.append(request)
        return httpx.Response(400, json={"code": "BadRequest", "message": "bad"}, headers=LIMIT_HEADERS)

    with make_client(handler) as client, pytest.raises(ClientRequestError) as error:
        client.get_origin_product(42)
    assert len(calls) == 1
    assert "42" in str(error.value) and "400" in str(error.value)


def test_404_raises_not_found():
    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            return token_response()
        return httpx.Response(404, json={"code": "NOT_FOUND", "message": "없음"}, headers=LIMIT_HEADERS)

    with make_client(handler) as client, pytest.raises(NotFoundError):
        client.get_origin_product(7)


def test_5xx_and_transport_errors_are_retried_until_the_budget_runs_out():
    attempts = []

    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            return token_response()
        attempts.append(1)
        if len(attempts) % 2:
            raise httpx.ConnectError("reset", request=request)
        return httpx.Response(503, json={"code": "GW.INTERNAL"}, headers=LIMIT_HEADERS)

    with make_client(handler) as client:
        with pytest.raises(TransientError) as error:
            client.get_origin_product(9)
        assert client.stats.retries == 3
    assert len(attempts) == 4
    assert error.value.attempts == 4


def test_quota_penalty_is_not_retried():
    attempts = []

    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            return token_response()
        attempts.append(1)
        return httpx.Response(429, json={"code": "GW.QUOTA_LIMIT"}, headers={"GNCP-GW-Quota-Limit": "1"})

    with make_client(handler) as client, pytest.raises(RateLimitedError):
        client.get_origin_product(9)
    assert len(attempts) == 1


def test_truncated_json_is_retried_then_reported_as_malformed():
    attempts = []

    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            return token_response()
        attempts.append(1)
        return httpx.Response(200, content=b'{"originProduct": {"na', headers=LIMIT_HEADERS)

    with make_client(handler) as client, pytest.raises(MalformedResponseError):
        client.get_origin_product(3)
    assert len(attempts) == 4


def test_a_payload_without_required_fields_is_malformed_not_a_crash():
    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            return token_response()
        return httpx.Response(200, json={"originProduct": {"name": "x"}}, headers=LIMIT_HEADERS)

    with make_client(handler) as client, pytest.raises(MalformedResponseError) as error:
        client.get_origin_product(5)
    assert "5" in str(error.value)


def test_token_is_refreshed_shortly_before_expiry_by_one_caller():
    issued = []

    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            time.sleep(0.05)  # let the other callers pile up behind the one fetching
            issued.append(1)
            return token_response(token=f"tok-{len(issued)}", expires_in=1.0)
        return httpx.Response(200, json=DETAIL, headers=LIMIT_HEADERS)

    with make_client(handler) as client:
        client.get_origin_product(1)
        time.sleep(1.0)
        barrier = threading.Barrier(16)

        def call():
            barrier.wait()
            client.get_origin_product(1)

        threads = [threading.Thread(target=call) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(issued) == 2


def test_secret_and_token_never_show_in_repr_or_errors():
    def handler(request):
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(400, json={"code": "BadRequest", "message": "invalid signature"})
        return httpx.Response(200, json=DETAIL)

    client = make_client(handler)
    with pytest.raises(Exception) as error:
        client.get_origin_product(1)
    text = repr(client) + str(error.value) + repr(error.value.__cause__)
    assert SECRET not in text
    assert "client_secret_sign" not in text


def test_cookies_a_response_sets_are_never_sent_back():
    sent_cookies = []

    def handler(request: httpx.Request):
        if request.url.path.endswith("/oauth2/token"):
            response = token_response()
            response.headers["Set-Cookie"] = "session=abc; Path=/"
            return response
        sent_cookies.append(request.headers.get("cookie"))
        return httpx.Response(200, json=DETAIL, headers={**LIMIT_HEADERS, "Set-Cookie": "lb=node-2; Path=/"})

    with make_client(handler) as client:
        client.get_origin_product(1)
        client.get_origin_product(2)
        assert not client._http.cookies and not client._images.cookies
    assert sent_cookies == [None, None]
