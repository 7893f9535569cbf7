"""Many apps on one emulator: SELF apps with their own catalogs and buckets, a SELLER-type app whose
sellers have their own tokens and catalogs but share its buckets, a per-seller quota, per-app stats,
and controls aimed at one store; the default app as it was."""

import httpx
import pytest

from commerce_emulator import Catalog, EmulatedApp, EmulatorConfig, UnknownStoreError
from commerce_emulator.images import render_product_image

from tests.support.emulator_calls import (
    SEARCH_PATH,
    TEST_CLIENT_SECRET,
    TOKEN_PATH,
    detail_path,
    fetch_token,
    token_form,
)

SHOP_A = EmulatedApp("shop-a", "$2a$04$shopAshopAshopAshopAsO")
SHOP_B = EmulatedApp("shop-b", "$2a$04$shopBshopBshopBshopBsO")
AGENCY = EmulatedApp("agency", "$2a$04$agencyAgencyAgencyAgeu", accounts=("seller_1", "seller_2"))
APPS = (SHOP_A, SHOP_B, AGENCY)


def self_form(app: EmulatedApp) -> dict[str, str]:
    return token_form(app.client_id, app.client_secret)


def seller_form(app: EmulatedApp, account_id: str) -> dict[str, str]:
    return {**token_form(app.client_id, app.client_secret), "type": "SELLER", "account_id": account_id}


def token_for(client: httpx.Client, form: dict[str, str]) -> dict[str, str]:
    """Authorization headers for a token obtained with this form."""
    response = client.post(TOKEN_PATH, data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def listed_numbers(client: httpx.Client, headers: dict[str, str]) -> list[int]:
    response = client.post(SEARCH_PATH, json={"size": 500}, headers=headers)
    assert response.status_code == 200, response.text
    return [content["originProductNo"] for content in response.json()["contents"]]


def burst_until_429(client: httpx.Client, headers: dict[str, str]) -> int:
    """Search until the gateway refuses; the number of calls it allowed."""
    for allowed in range(100):
        response = client.post(SEARCH_PATH, json={"size": 1}, headers=headers)
        if response.status_code == 429:
            assert response.json()["code"] == "GW.RATE_LIMIT"
            return allowed
    raise AssertionError("the bucket never ran dry")


@pytest.fixture
def many(start_emulator):
    return start_emulator(apps=APPS)


@pytest.fixture
def http(many):
    with httpx.Client(base_url=many.base_url, timeout=5) as client:
        yield client


def test_each_self_app_lists_its_own_catalog(many, http):
    default = listed_numbers(http, {"Authorization": f"Bearer {fetch_token(http)}"})
    shop_a = listed_numbers(http, token_for(http, self_form(SHOP_A)))
    shop_b = listed_numbers(http, token_for(http, self_form(SHOP_B)))
    assert shop_a == [p.origin_product_no for p in many.catalog_of("shop-a").live_products()]
    assert shop_b == [p.origin_product_no for p in many.catalog_of("shop-b").live_products()]
    assert default == [p.origin_product_no for p in many.catalog.live_products()]
    assert len({tuple(default), tuple(shop_a), tuple(shop_b)}) == 3
    assert len({many.catalog.seed, many.catalog_of("shop-a").seed, many.catalog_of("shop-b").seed}) == 3


def test_a_store_is_served_only_its_own_products(many, http):
    shop_a = token_for(http, self_form(SHOP_A))
    catalog = many.catalog_of("shop-a")
    foreign = next(p.origin_product_no for p in many.catalog.live_products() if catalog.get(p.origin_product_no) is None)
    assert http.get(detail_path(foreign), headers=shop_a).status_code == 404
    own = catalog.live_products()[0]
    assert http.get(detail_path(own.origin_product_no), headers=shop_a).json()["originProduct"]["name"] == own.name


def test_media_urls_are_distinct_per_catalog_and_served_from_it(many, http):
    shop_a = many.catalog_of("shop-a")
    product = max(shop_a.live_products(), key=lambda p: p.image_count)
    detail = http.get(detail_path(product.origin_product_no), headers=token_for(http, self_form(SHOP_A))).json()
    url = detail["originProduct"]["images"]["representativeImage"]["url"]
    assert url == f"{many.root_url}/images/shop-a/{product.origin_product_no}/1.jpg"
    picture = httpx.get(url)
    assert picture.status_code == 200
    assert picture.content == render_product_image(shop_a.seed, product.origin_product_no, 1)

    seller = many.catalog_of("agency", "seller_2").live_products()[0]
    headers = token_for(http, seller_form(AGENCY, "seller_2"))
    listed = http.post(SEARCH_PATH, json={"size": 1}, headers=headers).json()["contents"][0]
    seller_url = listed["channelProducts"][0]["representativeImage"]["url"]
    assert seller_url == f"{many.root_url}/images/agency--seller-2/{seller.origin_product_no}/1.jpg"
    assert httpx.get(seller_url).status_code == 200
    assert httpx.get(f"{many.root_url}/images/no-such-store/{seller.origin_product_no}/1.jpg").status_code == 404


def test_videos_of_a_self_app_live_under_its_slug(many, http):
    catalog = many.catalog_of("shop-b")
    product = next(p for p in catalog.live_products() if p.video == "ok")
    content = http.get(detail_path(product.origin_product_no), headers=token_for(http, self_form(SHOP_B))).json()
    url = f"{many.root_url}/videos/shop-b/{product.origin_product_no}.mp4"
    assert url in content["originProduct"]["detailContent"]
    video = httpx.get(url)
    assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"


def test_one_self_apps_burst_does_not_cost_another_app(start_emulator):
    emulator = start_emulator(apps=APPS, rate=2.0)
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        shop_a, shop_b = token_for(client, self_form(SHOP_A)), token_for(client, self_form(SHOP_B))
        assert burst_until_429(client, shop_a) == 4
        fresh = client.post(SEARCH_PATH, json={"size": 1}, headers=shop_b)
        default = client.post(SEARCH_PATH, json={"size": 1}, headers={"Authorization": f"Bearer {fetch_token(client)}"})
    assert fresh.status_code == default.status_code == 200
    assert fresh.headers["GNCP-GW-RateLimit-Remaining"] == default.headers["GNCP-GW-RateLimit-Remaining"] == "3"


def test_set_rate_for_one_app_leaves_the_others_at_the_common_rate(start_emulator):
    emulator = start_emulator(apps=APPS, rate=2.0)
    emulator.set_rate(5.0, "search", client_id="shop-a")
    assert emulator.rates("shop-a")["search"] == 5.0 and emulator.rates("shop-b")["search"] == 2.0
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        shop_a, shop_b = token_for(client, self_form(SHOP_A)), token_for(client, self_form(SHOP_B))
        assert client.post(SEARCH_PATH, json={}, headers=shop_a).headers["GNCP-GW-RateLimit-Burst-Capacity"] == "10"
        assert client.post(SEARCH_PATH, json={}, headers=shop_b).headers["GNCP-GW-RateLimit-Burst-Capacity"] == "4"
        emulator.set_rate(3.0)  # every app, the one set apart too
        assert client.post(SEARCH_PATH, json={}, headers=shop_a).headers["GNCP-GW-RateLimit-Burst-Capacity"] == "6"
    with pytest.raises(UnknownStoreError):
        emulator.set_rate(1.0, client_id="nobody")


def test_each_seller_account_has_its_own_token_and_catalog(many, http):
    first = http.post(TOKEN_PATH, data=seller_form(AGENCY, "seller_1")).json()["access_token"]
    second = http.post(TOKEN_PATH, data=seller_form(AGENCY, "seller_2")).json()["access_token"]
    again = http.post(TOKEN_PATH, data=seller_form(AGENCY, "seller_1")).json()["access_token"]
    assert first != second and again == first
    assert many.issued_tokens() == [first, second]

    seller_1 = listed_numbers(http, {"Authorization": f"Bearer {first}"})
    seller_2 = listed_numbers(http, {"Authorization": f"Bearer {second}"})
    assert seller_1 == [p.origin_product_no for p in many.catalog_of("agency", "seller_1").live_products()]
    assert seller_2 == [p.origin_product_no for p in many.catalog_of("agency", "seller_2").live_products()]
    assert seller_1 != seller_2


def test_sellers_of_one_app_share_its_bucket(start_emulator):
    emulator = start_emulator(apps=APPS, rate=2.0)
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        seller_1 = token_for(client, seller_form(AGENCY, "seller_1"))
        seller_2 = token_for(client, seller_form(AGENCY, "seller_2"))
        assert burst_until_429(client, seller_1) == 4
        refused = client.post(SEARCH_PATH, json={"size": 1}, headers=seller_2)
        other_app = client.post(SEARCH_PATH, json={"size": 1}, headers=token_for(client, self_form(SHOP_A)))
    assert refused.status_code == 429 and refused.json()["code"] == "GW.RATE_LIMIT"
    assert other_app.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "field"),
    [
        pytest.param({**seller_form(AGENCY, "seller_1"), "type": "SELF"}, 400, "type", id="seller-app-asked-self"),
        pytest.param({**seller_form(AGENCY, "seller_1"), "account_id": ""}, 400, "account_id", id="no-account"),
        pytest.param(seller_form(AGENCY, "seller_9"), 403, "account_id", id="not-its-seller"),
        pytest.param(seller_form(SHOP_A, "seller_1"), 400, "type", id="self-app-asked-seller"),
        pytest.param(
            {**token_form(), "type": "SELLER", "account_id": "seller_1"}, 400, "type", id="default-app-asked-seller"
        ),
        pytest.param({**self_form(SHOP_A), "type": "PARTNER"}, 400, "type", id="unknown-type"),
    ],
)
def test_a_token_of_the_wrong_type_or_seller_is_refused(many, http, form, status, field):
    response = http.post(TOKEN_PATH, data=form)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == ("FORBIDDEN" if status == 403 else "BAD_REQUEST")
    assert body["message"] and body["timestamp"].endswith("+09:00")
    assert [invalid["name"] for invalid in body["invalidInputs"]] == [field]
    assert many.issued_tokens() == []


def test_a_seller_over_its_quota_gets_quota_limit_before_the_apps_bucket_is_charged(start_emulator):
    # The app's bucket holds 2 and refills 1/s; each seller's quota holds 1 and refills once in 100 s.
    emulator = start_emulator(apps=APPS, rate=1.0, seller_quota_rate=0.01)
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        emulator.set_rate(1000.0, "token")
        seller_1 = token_for(client, seller_form(AGENCY, "seller_1"))
        seller_2 = token_for(client, seller_form(AGENCY, "seller_2"))
        assert client.post(SEARCH_PATH, json={}, headers=seller_1).status_code == 200
        refused = [client.post(SEARCH_PATH, json={}, headers=seller_1) for _ in range(5)]
        other_seller = client.post(SEARCH_PATH, json={}, headers=seller_2)
    assert {response.status_code for response in refused} == {429}
    limited = refused[0]
    assert limited.json()["code"] == "GW.QUOTA_LIMIT"
    assert limited.json()["traceId"] == limited.headers["GNCP-GW-Trace-ID"]
    assert limited.headers["GNCP-GW-Quota-Period"] == "SECONDS"
    assert limited.headers["GNCP-GW-Quota-Limit"] == "1"
    assert limited.headers["GNCP-GW-Quota-Remaining"] == "0"
    assert limited.headers["GNCP-GW-RateLimit-Burst-Capacity"] == "2"
    assert "Retry-After" not in limited.headers
    # Five refusals took nothing from the app's bucket of 2: the other seller still gets through.
    assert other_seller.status_code == 200
    stats = emulator.stats()["apps"]["agency"]
    assert stats["quota_limited"] == 5 and stats["accounts"]["seller_1"]["quota_limited"] == 5
    assert stats["accounts"]["seller_2"]["quota_limited"] == 0
    assert emulator.stats()["rate_limited"] == 0


def test_without_the_quota_option_sellers_only_meet_the_apps_bucket(many, http):
    seller_1 = token_for(http, seller_form(AGENCY, "seller_1"))
    responses = [http.post(SEARCH_PATH, json={"size": 1}, headers=seller_1) for _ in range(20)]
    assert {response.status_code for response in responses} == {200}
    assert all("GNCP-GW-Quota-Period" not in response.headers for response in responses)


def test_stats_count_requests_per_app_and_per_seller(many, http):
    default = {"Authorization": f"Bearer {fetch_token(http)}"}
    shop_a = token_for(http, self_form(SHOP_A))
    seller_1 = token_for(http, seller_form(AGENCY, "seller_1"))
    seller_2 = token_for(http, seller_form(AGENCY, "seller_2"))
    http.post(SEARCH_PATH, json={}, headers=default)
    number = many.catalog_of("shop-a").live_products()[0].origin_product_no
    http.get(detail_path(number), headers=shop_a)
    many.inject("search", "429")
    http.post(SEARCH_PATH, json={}, headers=shop_a)
    for _ in range(3):
        http.post(SEARCH_PATH, json={}, headers=seller_1)
    http.post(TOKEN_PATH, data=seller_form(AGENCY, "seller_9"))  # refused, but the agency's call
    http.post(SEARCH_PATH, json={}, headers=seller_2)

    stats = many.stats()
    assert stats["requests"]["search"] == {"200": 5, "429": 1}
    apps = stats["apps"]
    assert set(apps) == {"content-ops-emulator", "shop-a", "shop-b", "agency"}
    assert apps["content-ops-emulator"]["requests"] == {"token": 1, "search": 1, "detail": 0}
    assert apps["shop-a"]["requests"] == {"token": 1, "search": 1, "detail": 1}
    assert apps["shop-a"]["responses_429"] == {"token": 0, "search": 1, "detail": 0}
    assert apps["shop-b"]["requests"] == {"token": 0, "search": 0, "detail": 0}
    assert apps["agency"]["requests"] == {"token": 3, "search": 4, "detail": 0}
    assert apps["agency"]["token_issued"] == 2
    assert apps["agency"]["accounts"]["seller_1"]["requests"] == {"token": 1, "search": 3, "detail": 0}
    assert apps["agency"]["accounts"]["seller_2"]["requests"] == {"token": 1, "search": 1, "detail": 0}
    assert apps["shop-a"]["accounts"] == {}

    with httpx.Client(base_url=f"{many.root_url}/_emulator", timeout=5) as control:
        assert control.get("/stats").json()["apps"] == apps
        control.post("/reset-stats")
        cleared = control.get("/stats").json()["apps"]
    assert cleared["agency"]["requests"] == {"token": 0, "search": 0, "detail": 0}
    assert cleared["agency"]["accounts"]["seller_1"]["requests"] == {"token": 0, "search": 0, "detail": 0}
    assert cleared["shop-a"]["responses_429"] == {"token": 0, "search": 0, "detail": 0}


def test_controls_with_a_target_change_only_that_catalog(start_emulator):
    # Twins: the same seed, so the same product numbers in both catalogs.
    twins = (
        EmulatedApp("twin-1", SHOP_A.client_secret, seed=11),
        EmulatedApp("twin-2", SHOP_B.client_secret, seed=11),
    )
    emulator = start_emulator(apps=(*twins, AGENCY))
    untouched = {
        "default": emulator.catalog.products,
        "twin-2": emulator.catalog_of("twin-2").products,
        "seller_2": emulator.catalog_of("agency", "seller_2").products,
    }
    assert emulator.catalog_of("twin-1").products == untouched["twin-2"]
    twin_number = emulator.catalog_of("twin-1").live_products()[0].origin_product_no
    seller_number = emulator.catalog_of("agency", "seller_1").live_products()[0].origin_product_no

    assert len(emulator.modify(fraction=0.2, seed=3, client_id="twin-1")) > 0
    assert emulator.delete([seller_number], client_id="agency", account_id="seller_1") == [seller_number]
    emulator.break_products([twin_number], "404", client_id="twin-1")

    assert emulator.catalog_of("twin-1").products != untouched["twin-2"]
    assert emulator.catalog_of("agency", "seller_1").get(seller_number).is_deleted
    assert {
        "default": emulator.catalog.products,
        "twin-2": emulator.catalog_of("twin-2").products,
        "seller_2": emulator.catalog_of("agency", "seller_2").products,
    } == untouched
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        twin_1 = token_for(client, token_form("twin-1", SHOP_A.client_secret))
        twin_2 = token_for(client, token_form("twin-2", SHOP_B.client_secret))
        assert client.get(detail_path(twin_number), headers=twin_1).status_code == 404
        assert client.get(detail_path(twin_number), headers=twin_2).status_code == 200


def test_control_endpoints_take_the_target_as_json_fields(many):
    seller_1 = many.catalog_of("agency", "seller_1")
    number = seller_1.live_products()[0].origin_product_no
    default_before = many.catalog.products
    target = {"client_id": "agency", "account_id": "seller_1"}
    with httpx.Client(base_url=f"{many.root_url}/_emulator", timeout=5) as control:
        assert control.post("/modify", json={"origin_product_nos": [number], **target}).json() == {"modified": [number]}
        assert control.post("/modify", json={"fraction": 0.1, "seed": 2, "client_id": "shop-b"}).status_code == 200
        assert control.post("/break", json={"origin_product_nos": [number], "kind": "invalid", **target}).status_code == 200
        assert control.post("/delete", json={"origin_product_nos": [number], **target}).json() == {"deleted": [number]}
        assert control.post("/rate", json={"rate": 4, "client_id": "shop-a"}).json()["rates"]["detail"] == 4.0
        refusals = [
            control.post("/modify", json={"origin_product_nos": [number], "client_id": "nobody"}),
            control.post("/modify", json={"origin_product_nos": [number], "client_id": "agency"}),
            control.post("/delete", json={"origin_product_nos": [number], "client_id": "shop-a", "account_id": "x"}),
            control.post("/break", json={"origin_product_nos": [number], "account_id": "seller_1"}),
            control.post("/delete", json={"origin_product_nos": [number], "client_id": 7}),
        ]
    assert [response.status_code for response in refusals] == [400] * 5
    assert all(response.json()["error"] for response in refusals)
    assert seller_1.get(number).is_deleted
    assert many.catalog.products == default_before


def test_the_default_app_is_served_as_before_beside_other_apps(start_emulator):
    emulator = start_emulator(apps=APPS, hostile=2)
    alone = start_emulator(hostile=2)
    assert emulator.catalog.products == alone.catalog.products
    assert emulator.catalog.products == Catalog(200, 7, hostile=2).products
    assert emulator.catalog_of() is emulator.catalog
    with httpx.Client(base_url=emulator.base_url, timeout=5) as client:
        token = client.post(TOKEN_PATH, data=token_form(client_secret=TEST_CLIENT_SECRET)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        product = emulator.catalog.live_products()[0]
        detail = client.get(detail_path(product.origin_product_no), headers=headers).json()
    assert token["expires_in"] == 10_800
    assert detail["originProduct"]["images"]["representativeImage"]["url"] == (
        f"{emulator.root_url}/images/{product.origin_product_no}/1.jpg"
    )
    assert emulator.rates() == {"token": 1000.0, "search": 1000.0, "detail": 1000.0}


@pytest.mark.parametrize(
    ("apps", "message"),
    [
        pytest.param((SHOP_A, EmulatedApp("shop-a", SHOP_B.client_secret)), "unique", id="duplicate-client-id"),
        pytest.param((EmulatedApp("content-ops-emulator", SHOP_A.client_secret),), "unique", id="the-default-id"),
    ],
)
def test_config_refuses_clashing_client_ids(apps, message):
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(apps=apps)


def test_an_app_refuses_bad_secrets_and_repeated_accounts():
    with pytest.raises(ValueError, match="client secret"):
        EmulatedApp("app", "not-a-salt")
    with pytest.raises(ValueError, match="canonical"):
        EmulatedApp("app", "$2a$04$abcdefghijklmnopqrstuv")  # the documented, non-canonical one
    with pytest.raises(ValueError, match="unique"):
        EmulatedApp("app", SHOP_A.client_secret, accounts=("a", "a"))
    with pytest.raises(ValueError, match="seller_quota_rate"):
        EmulatorConfig(seller_quota_rate=0)
    assert SHOP_A.client_secret not in repr(EmulatorConfig(apps=APPS))
