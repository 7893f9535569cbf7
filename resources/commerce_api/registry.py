"""The stores an agency syncs and the apps they sync through, read from a TOML file
(`CONTENT_OPS_STORES`):

    [apps.agency]                    # a SELLER-type solution app: one app, many sellers
    client_id_env = "AGENCY_CLIENT_ID"
    client_secret_env = "AGENCY_CLIENT_SECRET"

    [stores.my-shop]                 # a store with its own SELF app
    name = "마이샵"
    client_id_env = "MYSHOP_CLIENT_ID"
    client_secret_env = "MYSHOP_CLIENT_SECRET"

    [stores.partner-a]               # a seller served by the agency's app
    app = "agency"
    account_id = "ncp_..."

Keys are slugs: they become partition keys and folder names. The file names environment
variables, never secrets; a secret is read from the environment only when a client is made, and
no repr, error or log line holds one. Without a file, the one store `default` comes from
`NAVER_COMMERCE_CLIENT_ID`/`_SECRET`. A bad file fails at load with one line naming the store.

A store's `base_url` overrides its app's, which overrides `NAVER_COMMERCE_BASE_URL`, which
overrides the real API's address. The rate-limit buckets belong to the app (the contract's
"whose bucket is whose"), so `Store.app` is what pacing and run concurrency key on.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .client import DEFAULT_BASE_URL

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
MAX_SLUG = 63
DEFAULT_STORE = "default"
_APP_FIELDS = {"client_id_env", "client_secret_env", "base_url"}
_STORE_FIELDS = {"name", "app", "account_id", "client_id_env", "client_secret_env", "base_url"}


class StoreRegistryError(ValueError):
    """The stores file cannot be used; the message is one line naming the file and the store."""


@dataclass(frozen=True)
class App:
    """A Commerce API app: its own buckets; `seller_app` when it acts for sellers by account_id."""

    key: str
    client_id_env: str
    client_secret_env: str
    base_url: str | None = None
    seller_app: bool = False

    def credentials(self, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
        """(client id, client secret), read from the environment now."""
        env = os.environ if environ is None else environ
        return env[self.client_id_env], env[self.client_secret_env]


@dataclass(frozen=True)
class Store:
    key: str
    name: str
    app: App
    account_id: str | None = None  # set for a seller served by a SELLER-type app
    base_url: str | None = field(default=None, repr=False)

    @property
    def token_type(self) -> str:
        return "SELLER" if self.account_id else "SELF"

    def api_base_url(self, environ: Mapping[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        return self.base_url or self.app.base_url or env.get("NAVER_COMMERCE_BASE_URL") or DEFAULT_BASE_URL


@dataclass(frozen=True)
class StoreRegistry:
    stores: dict[str, Store]
    apps: dict[str, App]
    path: str | None = None  # None: no stores file, the one store `default` of the environment

    @property
    def keys(self) -> list[str]:
        return list(self.stores)

    def store(self, key: str) -> Store:
        try:
            return self.stores[key]
        except KeyError:
            raise StoreRegistryError(f"no store {key!r}; the stores are {', '.join(sorted(self.stores))}") from None


def load_registry(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> StoreRegistry:
    """The registry in `path` (default: `CONTENT_OPS_STORES`), or the single `default` store."""
    env = os.environ if environ is None else environ
    path = path if path is not None else env.get("CONTENT_OPS_STORES") or None
    if path is None:
        app = App(DEFAULT_STORE, "NAVER_COMMERCE_CLIENT_ID", "NAVER_COMMERCE_CLIENT_SECRET")
        return StoreRegistry({DEFAULT_STORE: Store(DEFAULT_STORE, DEFAULT_STORE, app)}, {})
    where = f"stores file {path}"
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreRegistryError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:  # a key written twice is one of these
        raise StoreRegistryError(f"{where}: not valid TOML ({exc})") from None
    unknown = set(document) - {"apps", "stores"}
    if unknown:
        raise StoreRegistryError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}; "
                                 "expected [apps.*] and [stores.*]")
    apps = {key: _app(where, key, table, env) for key, table in _tables(where, document, "apps").items()}
    stores = {key: _store(where, key, table, apps, env)
              for key, table in _tables(where, document, "stores").items()}
    if not stores:
        raise StoreRegistryError(f"{where}: no [stores.*] table")
    return StoreRegistry(stores, apps, str(path))


def _tables(where: str, document: dict, section: str) -> dict[str, dict]:
    tables = document.get(section, {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise StoreRegistryError(f"{where}: [{section}] must hold tables such as [{section}.name]")
    for key in tables:
        if not (SLUG.fullmatch(key) and len(key) <= MAX_SLUG):
            kind = section[:-1]
            raise StoreRegistryError(f"{where}: {kind} {key!r}: a key must match [a-z0-9][a-z0-9-]* "
                                     f"(at most {MAX_SLUG} characters): it names partitions and folders")
    return tables


def _app(where: str, key: str, table: dict, env: Mapping[str, str]) -> App:
    at = f"{where}: app {key!r}"
    _only(at, table, _APP_FIELDS)
    client_id_env, secret_env = _required_env(at, table, env)
    return App(key, client_id_env, secret_env, _text(at, table, "base_url"), seller_app=True)


def _store(where: str, key: str, table: dict, apps: dict[str, App], env: Mapping[str, str]) -> Store:
    at = f"{where}: store {key!r}"
    _only(at, table, _STORE_FIELDS)
    name, base_url = _text(at, table, "name") or key, _text(at, table, "base_url")
    if "app" in table:
        if "client_id_env" in table or "client_secret_env" in table:
            raise StoreRegistryError(f"{at}: give either app (a solution app's seller) or its own "
                                     "client_id_env and client_secret_env, not both")
        app = apps.get(_text(at, table, "app") or "")
        if app is None:
            raise StoreRegistryError(f"{at}: app {table['app']!r} is not in [apps] "
                                     f"({', '.join(sorted(apps)) or 'there are none'})")
        account_id = _text(at, table, "account_id")
        if not account_id:
            raise StoreRegistryError(f"{at}: a seller served by app {app.key!r} needs its account_id")
        return Store(key, name, app, account_id, base_url)
    if "account_id" in table:
        raise StoreRegistryError(f"{at}: account_id belongs to a seller of a solution app; give app too")
    client_id_env, secret_env = _required_env(at, table, env)
    return Store(key, name, App(key, client_id_env, secret_env), None, base_url)


def _only(at: str, table: dict, allowed: set[str]) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise StoreRegistryError(f"{at}: unknown field(s) {', '.join(sorted(unknown))} "
                                 f"(expected {', '.join(sorted(allowed))}); secrets go in the environment")


def _text(at: str, table: dict, name: str) -> str | None:
    value = table.get(name)
    if value is not None and not isinstance(value, str):
        raise StoreRegistryError(f"{at}: {name} must be a string")
    return value


def _required_env(at: str, table: dict, env: Mapping[str, str]) -> tuple[str, str]:
    names = []
    for name in ("client_id_env", "client_secret_env"):
        variable = _text(at, table, name)
        if not variable:
            raise StoreRegistryError(f"{at}: {name} (the environment variable holding it) is missing")
        if not env.get(variable):
            raise StoreRegistryError(f"{at}: the environment variable {variable} ({name}) is not set")
        names.append(variable)
    return names[0], names[1]
