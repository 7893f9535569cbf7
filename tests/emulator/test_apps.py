"""commerce_emulator.apps: a fleet of apps with deterministic credentials, the environment holding them,
and a stores file the project's registry loader accepts and that signs in to the emulator."""

import httpx
import pytest

from commerce_emulator import EmulatedApp, canonical_bcrypt_salt, credentials_env, emulated_apps, registry_toml
from resources.commerce_api.registry import load_registry

from tests.support.emulator_calls import SEARCH_PATH, TOKEN_PATH, token_form


def test_emulated_apps_are_self_apps_then_one_agency_app_with_its_sellers():
    apps = emulated_apps(2, 3, products=40)
    assert [app.client_id for app in apps] == ["self-app-1", "self-app-2", "agency-app"]
    assert [app.accounts for app in apps] == [(), (), ("ncp_seller_1", "ncp_seller_2", "ncp_seller_3")]
    assert {app.products for app in apps} == {40}
    assert emulated_apps(2, 3, products=40) == apps  # deterministic, secrets included
    assert [app.client_id for app in emulated_apps(0, 2)] == ["agency-app"]
    assert emulated_apps(1, 0)[0].products is None  # the emulator's own catalog size


def test_credentials_are_the_same_every_time_and_differ_per_app():
    first, second = emulated_apps(3, 2), emulated_apps(3, 2)
    assert [app.client_secret for app in first] == [app.client_secret for app in second]
    secrets = {app.client_secret for app in first}
    assert len(secrets) == len(first)
    assert all(canonical_bcrypt_salt(secret).decode() == secret for secret in secrets)


def test_credentials_env_names_every_id_and_secret():
    apps = emulated_apps(1, 2)
    environment = credentials_env(apps)
    assert environment == {
        "EMULATOR_SELF_APP_1_CLIENT_ID": "self-app-1",
        "EMULATOR_SELF_APP_1_CLIENT_SECRET": apps[0].client_secret,
        "EMULATOR_AGENCY_APP_CLIENT_ID": "agency-app",
        "EMULATOR_AGENCY_APP_CLIENT_SECRET": apps[1].client_secret,
    }
    secret = apps[0].client_secret
    with pytest.raises(ValueError, match="one variable"):
        credentials_env([EmulatedApp("shop.a", secret), EmulatedApp("shop-a", secret)])


def test_the_registry_loads_with_the_project_loader_and_names_no_secret(tmp_path):
    apps = emulated_apps(2, 2)
    text = registry_toml(apps, "http://127.0.0.1:9/external")
    assert all(app.client_secret not in text for app in apps)
    path = tmp_path / "stores.toml"
    path.write_text(text, encoding="utf-8")
    environment = credentials_env(apps)

    registry = load_registry(path, environ=environment)
    assert sorted(registry.stores) == ["ncp-seller-1", "ncp-seller-2", "self-app-1", "self-app-2"]
    assert list(registry.apps) == ["agency-app"]
    seller = registry.store("ncp-seller-2")
    assert (seller.app.key, seller.account_id, seller.token_type) == ("agency-app", "ncp_seller_2", "SELLER")
    assert seller.app.credentials(environment) == ("agency-app", apps[2].client_secret)
    shop = registry.store("self-app-1")
    assert (shop.token_type, shop.app.credentials(environment)[0]) == ("SELF", "self-app-1")
    assert all(store.api_base_url(environment) == "http://127.0.0.1:9/external" for store in registry.stores.values())
    assert len({store.name for store in registry.stores.values()}) == 4


def test_every_store_in_the_registry_signs_in_to_its_own_catalog(start_emulator, tmp_path):
    apps = emulated_apps(1, 2, products=30)
    emulator = start_emulator(apps=apps)
    path = tmp_path / "stores.toml"
    path.write_text(registry_toml(apps, emulator.base_url), encoding="utf-8")
    environment = credentials_env(apps)
    listed: dict[str, list[int]] = {}
    for key, store in load_registry(path, environ=environment).stores.items():
        client_id, secret = store.app.credentials(environment)
        form = {**token_form(client_id, secret), "type": store.token_type}
        if store.account_id:
            form["account_id"] = store.account_id
        with httpx.Client(base_url=store.api_base_url(environment), timeout=5) as client:
            token = client.post(TOKEN_PATH, data=form).json()["access_token"]
            page = client.post(SEARCH_PATH, json={"size": 500}, headers={"Authorization": f"Bearer {token}"}).json()
        listed[key] = [content["originProductNo"] for content in page["contents"]]
    expected = {
        "self-app-1": emulator.catalog_of("self-app-1"),
        "ncp-seller-1": emulator.catalog_of("agency-app", "ncp_seller_1"),
        "ncp-seller-2": emulator.catalog_of("agency-app", "ncp_seller_2"),
    }
    assert listed == {key: [p.origin_product_no for p in c.live_products()] for key, c in expected.items()}


def test_registry_refuses_two_stores_with_one_key():
    secret = emulated_apps(1, 0)[0].client_secret
    agency = EmulatedApp("agency", secret, accounts=("shop_a",))
    with pytest.raises(ValueError, match="share the key 'shop-a'"):
        registry_toml([EmulatedApp("shop-a", secret), agency], "http://127.0.0.1:9/external")
