"""A store's client: its app's credentials from the environment, a SELLER token for a solution
app's seller, and its app's pacers shared with the other clients of that app."""

from __future__ import annotations

import pytest

from commerce_emulator import EmulatorConfig, EmulatorServer, credentials_env, emulated_apps, registry_toml
from resources.commerce_api import CommerceApiResource
from resources.commerce_api.registry import load_registry


@pytest.fixture
def agency(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    apps = emulated_apps(1, 2, products=12)
    with EmulatorServer(EmulatorConfig(products=5, rate=1000.0, apps=apps)) as server:
        path = tmp_path / "stores.toml"
        path.write_text(registry_toml(apps, server.base_url), encoding="utf-8")
        for name, value in credentials_env(apps).items():
            monkeypatch.setenv(name, value)
        yield server, load_registry(path)


def test_each_store_signs_in_as_its_app_and_lists_its_own_catalog(agency):
    server, registry = agency
    resource = CommerceApiResource(initial_rate_per_second=1000.0)
    seen = {}
    for key, store in registry.stores.items():
        client = resource.client_for(store)
        assert client.account_id == store.account_id
        page = client.search_products(page=1, size=50)
        seen[key] = {product.origin_product_no for product in page.products}
    assert all(len(numbers) == 12 for numbers in seen.values())
    catalogs = list(seen.values())
    assert catalogs[0] != catalogs[1] != catalogs[2] != catalogs[0]  # three catalogs
    issued = server.stats()["apps"]
    assert set(issued) >= {"self-app-1", "agency-app"}
    resource.teardown_after_execution(None)


def test_the_sellers_of_one_app_share_its_pacers_and_other_apps_do_not(agency):
    _, registry = agency
    resource = CommerceApiResource()
    sellers = [resource.client_for(store) for store in registry.stores.values() if store.account_id]
    (own,) = [resource.client_for(store) for store in registry.stores.values() if not store.account_id]
    assert len(sellers) == 2
    assert sellers[0].pacers["detail"] is sellers[1].pacers["detail"]
    assert own.pacers["detail"] is not sellers[0].pacers["detail"]
    assert resource.client_for(next(iter(registry.stores.values()))) is own  # one client per store
    resource.teardown_after_execution(None)
