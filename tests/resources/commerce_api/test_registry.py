"""The store registry: an agency's stores and apps from a TOML file, secrets from the environment,
and one clear line naming the store for every way the file can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from resources.commerce_api.client import DEFAULT_BASE_URL
from resources.commerce_api.registry import StoreRegistryError, load_registry

SECRET = "$2a$10$abcdefghijklmnopqrstuv"
ENV = {"AGENCY_CLIENT_ID": "agency-id", "AGENCY_CLIENT_SECRET": SECRET,
       "MYSHOP_CLIENT_ID": "myshop-id", "MYSHOP_CLIENT_SECRET": SECRET}
AGENCY = """
[apps.agency]
client_id_env = "AGENCY_CLIENT_ID"
client_secret_env = "AGENCY_CLIENT_SECRET"
"""
EXAMPLE = AGENCY + """
[stores.my-shop]
name = "마이샵"
client_id_env = "MYSHOP_CLIENT_ID"
client_secret_env = "MYSHOP_CLIENT_SECRET"
base_url = "http://127.0.0.1:9001/external"

[stores.partner-a]
app = "agency"
account_id = "ncp_partner_a"

[stores.partner-b]
app = "agency"
account_id = "ncp_partner_b"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stores.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_self_stores_have_their_own_app_and_a_solution_apps_sellers_share_one(tmp_path: Path):
    registry = load_registry(write(tmp_path, EXAMPLE), ENV)

    assert sorted(registry.stores) == ["my-shop", "partner-a", "partner-b"]
    shop, a, b = registry.store("my-shop"), registry.store("partner-a"), registry.store("partner-b")
    assert shop.name == "마이샵" and shop.token_type == "SELF" and shop.app.key == "my-shop"
    assert a.token_type == b.token_type == "SELLER"
    assert (a.account_id, b.account_id) == ("ncp_partner_a", "ncp_partner_b")
    assert a.app is b.app is registry.apps["agency"] and a.app.seller_app and not shop.app.seller_app
    assert shop.app.credentials(ENV) == ("myshop-id", SECRET) and a.app.credentials(ENV) == ("agency-id", SECRET)


def test_a_stores_address_overrides_its_apps_which_overrides_the_environments(tmp_path: Path):
    secret_line = 'client_secret_env = "AGENCY_CLIENT_SECRET"\n'
    text = EXAMPLE.replace(secret_line, secret_line + 'base_url = "http://127.0.0.1:9002/external"\n', 1)
    registry = load_registry(write(tmp_path, text), ENV)
    env = {**ENV, "NAVER_COMMERCE_BASE_URL": "http://127.0.0.1:9003/external"}

    assert registry.store("my-shop").api_base_url(env) == "http://127.0.0.1:9001/external"
    assert registry.store("partner-a").api_base_url(env) == "http://127.0.0.1:9002/external"
    plain = load_registry(write(tmp_path, AGENCY + '[stores.x]\napp = "agency"\naccount_id = "ncp_x"\n'), ENV)
    assert plain.store("x").api_base_url(env) == "http://127.0.0.1:9003/external"
    assert plain.store("x").api_base_url(ENV) == DEFAULT_BASE_URL


def test_without_a_file_the_one_store_is_default_from_the_usual_variables():
    registry = load_registry(None, {"NAVER_COMMERCE_CLIENT_ID": "id", "NAVER_COMMERCE_CLIENT_SECRET": SECRET})

    (store,) = registry.stores.values()
    assert store.key == "default" and store.token_type == "SELF"
    env = {"NAVER_COMMERCE_CLIENT_ID": "id", "NAVER_COMMERCE_CLIENT_SECRET": SECRET}
    assert store.app.credentials(env) == ("id", SECRET)


@pytest.mark.parametrize(("text", "env", "expected"), [
    (AGENCY + '[stores.p]\napp = "agencyy"\naccount_id = "ncp_p"\n', ENV,
     "store 'p': app 'agencyy' is not in [apps] (agency)"),
    ('[stores.shop]\nclient_id_env = "SHOP_ID"\nclient_secret_env = "SHOP_SECRET"\n', {"SHOP_ID": "x"},
     "store 'shop': the environment variable SHOP_SECRET (client_secret_env) is not set"),
    (AGENCY + '[stores.p]\napp = "agency"\naccount_id = "a"\n[stores.p]\napp = "agency"\naccount_id = "b"\n', ENV,
     "not valid TOML"),
    (AGENCY + '[stores."../etc"]\napp = "agency"\naccount_id = "a"\n', ENV, "store '../etc': a key must match"),
    (AGENCY + '[stores.My-Shop]\napp = "agency"\naccount_id = "a"\n', ENV, "store 'My-Shop': a key must match"),
    (AGENCY + '[stores.p]\napp = "agency"\n', ENV, "store 'p': a seller served by app 'agency' needs its account_id"),
    (AGENCY + '[stores.p]\napp = "agency"\naccount_id = "a"\nclient_id_env = "AGENCY_CLIENT_ID"\n', ENV,
     "store 'p': give either app"),
    (f'[stores.p]\nclient_id = "x"\nclient_secret = "{SECRET}"\n', ENV,
     "store 'p': unknown field(s) client_id, client_secret"),
    ("[stores]\n", ENV, "no [stores.*] table"),
])
def test_a_bad_file_fails_at_load_with_one_line_naming_the_store(tmp_path: Path, text: str, env: dict, expected: str):
    with pytest.raises(StoreRegistryError) as error:
        load_registry(write(tmp_path, text), env)

    message = str(error.value)
    assert expected in message and "\n" not in message
    assert message.startswith(f"stores file {tmp_path / 'stores.toml'}")
    assert SECRET not in message


def test_the_registry_holds_variable_names_never_secrets(tmp_path: Path):
    registry = load_registry(write(tmp_path, EXAMPLE), ENV)
    assert SECRET not in repr(registry)
    assert "MYSHOP_CLIENT_SECRET" in repr(registry.store("my-shop").app)
