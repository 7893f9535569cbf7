"""Token issuance: the signed form request, the 30-minute reuse rule, expiry and the query-string penalty."""

import time

import httpx

from commerce_emulator.penalty import QueryStringPenalty
from commerce_emulator.tokens import TokenStore

from tests.support.emulator_calls import SEARCH_PATH, TEST_CLIENT_SECRET, TOKEN_PATH, fetch_token, token_form


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_signed_form_request_gets_a_bearer_token(emulator, client):
    response = client.post(TOKEN_PATH, data=token_form())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 10_800
    assert body["access_token"] in emulator.issued_tokens()
    assert response.headers["GNCP-GW-Trace-ID"]
    assert emulator.stats()["token_issued"] == 1


def test_token_works_on_the_product_api(client):
    token = fetch_token(client)
    response = client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_same_token_is_returned_while_at_least_30_minutes_remain(emulator, client):
    first = client.post(TOKEN_PATH, data=token_form()).json()
    second = client.post(TOKEN_PATH, data=token_form()).json()
    assert second["access_token"] == first["access_token"]
    assert 10_790 <= second["expires_in"] <= 10_800
    assert emulator.stats()["token_issued"] == 1


def test_new_token_when_less_than_30_minutes_remain_and_the_old_one_stays_valid(start_emulator):
    emulator = start_emulator(token_ttl_seconds=29 * 60)
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        first = client.post(TOKEN_PATH, data=token_form()).json()["access_token"]
        second = client.post(TOKEN_PATH, data=token_form()).json()["access_token"]
        assert first != second
        for token in (first, second):
            assert client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert emulator.issued_tokens() == [first, second]


def test_reuse_threshold_and_expiry_follow_the_clock():
    clock = FakeClock()
    store = TokenStore(ttl_seconds=3600, clock=clock)
    first = store.grant("app").token
    clock.now += 1799  # 1801 s left: still reused
    grant = store.grant("app")
    assert grant.token is first and not grant.newly_issued and grant.expires_in == 1801
    clock.now += 2  # 1799 s left: replaced
    second = store.grant("app").token
    assert second is not first
    assert store.validate(first.value) is first
    clock.now += 1800  # past the first token's expiry
    assert store.validate(first.value) is None
    assert store.validate(second.value) is second


def test_stale_timestamp_is_rejected(client):
    stale = int(time.time() * 1000) - 5 * 60 * 1000 - 5000
    response = client.post(TOKEN_PATH, data=token_form(timestamp_ms=stale))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BAD_REQUEST"
    assert body["timestamp"].endswith("+09:00")
    assert [invalid["name"] for invalid in body["invalidInputs"]] == ["timestamp"]


def test_timestamp_a_few_minutes_old_is_accepted(client):
    response = client.post(TOKEN_PATH, data=token_form(timestamp_ms=int(time.time() * 1000) - 4 * 60 * 1000))
    assert response.status_code == 200


def test_future_timestamp_is_rejected(client):
    response = client.post(TOKEN_PATH, data=token_form(timestamp_ms=int(time.time() * 1000) + 10_000))
    assert response.status_code == 400
    assert response.json()["invalidInputs"][0]["name"] == "timestamp"


def test_signature_made_with_another_secret_is_rejected(emulator, client):
    response = client.post(TOKEN_PATH, data=token_form(client_secret="$2a$04$abcdefghijklmnopqrstuu"))
    assert response.status_code == 400
    assert response.json()["invalidInputs"][0]["name"] == "client_secret_sign"
    assert emulator.issued_tokens() == []


def test_unknown_client_is_forbidden(client):
    response = client.post(TOKEN_PATH, data=token_form(client_id="someone-else"))
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


def test_type_other_than_self_is_rejected(client):
    response = client.post(TOKEN_PATH, data={**token_form(), "type": "SELLER"})
    assert response.status_code == 400
    assert response.json()["invalidInputs"][0]["name"] == "type"


def test_json_body_is_rejected_because_the_token_api_takes_form_fields_only(client):
    response = client.post(TOKEN_PATH, json=token_form())
    assert response.status_code == 400


def test_missing_fields_are_named(client):
    response = client.post(TOKEN_PATH, data={"client_id": "x", "grant_type": "client_credentials"})
    assert response.status_code == 400
    names = {invalid["name"] for invalid in response.json()["invalidInputs"]}
    assert names == {"timestamp", "client_secret_sign", "type"}


def test_credentials_in_the_query_string_trigger_the_hourly_quota(emulator, client):
    form = token_form()
    offending = client.post(TOKEN_PATH, params=form)
    assert offending.status_code == 200  # the offending call is this hour's one call
    token = offending.json()["access_token"]

    for response in (
        client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {token}"}),
        client.post(TOKEN_PATH, data=token_form()),
    ):
        assert response.status_code == 429
        assert response.json()["code"] == "GW.QUOTA_LIMIT"
        assert response.headers["GNCP-GW-Quota-Period"] == "HOURS"
        assert response.headers["GNCP-GW-Quota-Limit"] == "1"
        assert "Retry-After" not in response.headers
    assert emulator.stats()["quota_limited"] == 2

    emulator.clear_penalty()
    assert client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_penalty_allows_one_call_per_rolling_hour_for_a_day():
    clock = FakeClock()
    penalty = QueryStringPenalty(clock=clock)
    penalty.penalise("app")
    assert not penalty.admit("app")
    clock.now += 3600
    assert penalty.admit("app")
    assert not penalty.admit("app")
    assert penalty.admit("other-app")
    clock.now += 24 * 3600
    assert penalty.admit("app") and penalty.admit("app")
    assert not penalty.is_penalised("app")


def test_expired_tokens_get_401_until_a_new_token_is_requested(emulator, client):
    old = fetch_token(client)
    emulator.expire_tokens()
    response = client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    body = response.json()
    assert body == {**body, "code": "GW.AUTHN", "message": "요청을 보낼 권한이 없습니다."}
    assert body["traceId"] == response.headers["GNCP-GW-Trace-ID"]
    assert body["timestamp"].endswith("+09:00")

    new = fetch_token(client)
    assert new != old
    assert client.post(SEARCH_PATH, json={}, headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_missing_or_unknown_bearer_token_gets_401(client):
    assert client.post(SEARCH_PATH, json={}).status_code == 401
    assert client.get("/v2/products/origin-products/1", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_client_secret_never_appears_in_responses_or_reprs(emulator, client):
    response = client.post(TOKEN_PATH, data=token_form(client_secret="$2a$04$abcdefghijklmnopqrstuu"))
    assert TEST_CLIENT_SECRET not in response.text
    assert TEST_CLIENT_SECRET not in repr(emulator.config)
