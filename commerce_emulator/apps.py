"""A fleet of emulated apps for many-store runs: deterministic credentials, the environment that holds
them, and a store registry (resources/commerce_api/registry.py's TOML) that names only the variables.

    apps = emulated_apps(self_apps=2, seller_accounts=3)
    EmulatorConfig(apps=apps)            # the emulator serves them
    credentials_env(apps)                # {"EMULATOR_SELF_APP_1_CLIENT_ID": "self-app-1", ...}
    registry_toml(apps, server.base_url) # [stores.self-app-1] ... [apps.agency-app] ... [stores.ncp-seller-1]
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

from .config import EmulatedApp
from .signature import BCRYPT_BASE64_ALPHABET
from .stores import SLUG_PATTERN, slug_of

SELF_APP_PREFIX = "self-app-"
SELLER_APP_ID = "agency-app"
SELLER_ACCOUNT_PREFIX = "ncp_seller_"
ENV_PREFIX = "EMULATOR_"
# Cost 04 keeps a token request cheap when a run signs in many apps; the protocol is the same.
_SECRET_PREFIX = "$2a$04$"
_SHOP_NAMES = ("하늘빛상점", "봄날마켓", "바다내음", "숲속공방", "달빛잡화점", "온누리상회", "새벽장터", "꽃담가게")
_REGISTRY_KEY = re.compile(SLUG_PATTERN)
_MAX_REGISTRY_KEY = 63  # the registry's limit: keys name partitions and folders


def emulated_apps(self_apps: int, seller_accounts: int, *, products: int | None = None) -> tuple[EmulatedApp, ...]:
    """`self-app-1`..`self-app-N` (SELF apps), then `agency-app` serving `ncp_seller_1`..`ncp_seller_M`."""
    if self_apps < 0 or seller_accounts < 0:
        raise ValueError(f"self_apps and seller_accounts must be >= 0, got {self_apps} and {seller_accounts}")
    apps = [_app(f"{SELF_APP_PREFIX}{n}", (), products) for n in range(1, self_apps + 1)]
    if seller_accounts:
        accounts = tuple(f"{SELLER_ACCOUNT_PREFIX}{n}" for n in range(1, seller_accounts + 1))
        apps.append(_app(SELLER_APP_ID, accounts, products))
    return tuple(apps)


def deterministic_secret(client_id: str) -> str:
    """A canonical bcrypt salt derived from the client id: the same on every run, different per app."""
    digest = hashlib.sha256(f"commerce-emulator:{client_id}".encode()).digest()
    salt = [BCRYPT_BASE64_ALPHABET[byte % 64] for byte in digest[:22]]
    # The last character carries only 2 bits of the 128-bit salt: keep its low bits clear (canonical).
    salt[21] = BCRYPT_BASE64_ALPHABET[BCRYPT_BASE64_ALPHABET.index(salt[21]) & 0b110000]
    return _SECRET_PREFIX + "".join(salt)


def env_names(app: EmulatedApp) -> tuple[str, str]:
    """The variables holding the app's client id and secret, e.g. EMULATOR_AGENCY_APP_CLIENT_ID."""
    stem = re.sub(r"[^A-Z0-9]+", "_", app.client_id.upper()).strip("_")
    return f"{ENV_PREFIX}{stem}_CLIENT_ID", f"{ENV_PREFIX}{stem}_CLIENT_SECRET"


def credentials_env(apps: Iterable[EmulatedApp]) -> dict[str, str]:
    """Variable name -> value for every app's client id and secret (for a child process's environment)."""
    environment: dict[str, str] = {}
    for app in apps:
        id_name, secret_name = env_names(app)
        if id_name in environment:
            raise ValueError(f"apps {app.client_id!r} and {environment[id_name]!r} map to one variable {id_name}")
        environment[id_name] = app.client_id
        environment[secret_name] = app.client_secret
    return environment


def registry_toml(apps: Iterable[EmulatedApp], base_url: str) -> str:
    """A stores file: each SELF app a store, each SELLER-type app an [apps.*] table with one store per account.

    Store keys are slugs of the client id (SELF) or of the account id (a seller's); it holds variable
    names, never secrets.
    """
    tables: list[str] = []
    store_keys: set[str] = set()
    app_keys: set[str] = set()
    shop_names = iter(_shop_names())
    for app in apps:
        id_name, secret_name = env_names(app)
        credentials = {"client_id_env": id_name, "client_secret_env": secret_name, "base_url": base_url}
        if not app.is_seller_app:
            key = _registry_key(slug_of(app.client_id), store_keys)
            tables.append(_table("stores", key, {"name": next(shop_names), **credentials}))
            continue
        app_key = _registry_key(slug_of(app.client_id), app_keys)
        tables.append(_table("apps", app_key, credentials))
        for account in app.accounts:
            fields = {"name": next(shop_names), "app": app_key, "account_id": account}
            tables.append(_table("stores", _registry_key(slug_of(account), store_keys), fields))
    header = ("# Stores served by commerce_emulator. Secrets are not here: the variables named below hold\n"
              "# them (commerce_emulator.apps.credentials_env).\n")
    return header + "\n" + "\n".join(tables)


def _app(client_id: str, accounts: tuple[str, ...], products: int | None) -> EmulatedApp:
    return EmulatedApp(client_id, deterministic_secret(client_id), accounts, products)


def _shop_names() -> Iterable[str]:
    round_number = 1
    while True:
        for name in _SHOP_NAMES:
            yield name if round_number == 1 else f"{name} {round_number}호점"
        round_number += 1


def _registry_key(key: str, taken: set[str]) -> str:
    if not (_REGISTRY_KEY.fullmatch(key) and len(key) <= _MAX_REGISTRY_KEY):
        raise ValueError(f"store key {key!r} is not a slug of at most {_MAX_REGISTRY_KEY} characters")
    if key in taken:
        raise ValueError(f"two tables would share the key {key!r}; give the apps or accounts distinct ids")
    taken.add(key)
    return key


def _table(section: str, key: str, fields: dict[str, str]) -> str:
    lines = [f"[{section}.{key}]", *(f"{name} = {_toml_string(value)}" for name, value in fields.items())]
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    # A JSON string is a TOML basic string (same quotes and escapes), but for DEL, which TOML wants escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
