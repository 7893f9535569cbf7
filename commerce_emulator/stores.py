"""Whose catalog a request is served from: the default app's store, each SELF app's, each seller account
of a SELLER-type app; and the apps themselves, whose buckets their stores share.

A store is keyed by (client_id, account_id); account_id is None for a SELF app. Its media slug puts
its pictures and videos under their own URLs; the default store has none, so its URLs stay short.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .catalog import Catalog
from .config import EmulatorConfig

SLUG_PATTERN = r"[a-z0-9][a-z0-9-]*"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class UnknownStoreError(LookupError):
    """A client_id / account_id pair that names no emulated store."""


class StoreKey(NamedTuple):
    client_id: str
    account_id: str | None = None


@dataclass(frozen=True)
class AppEntry:
    """An app the token endpoint knows: its credentials and, for a SELLER-type app, its accounts."""

    client_id: str
    client_secret: str = field(repr=False)
    accounts: tuple[str, ...] = ()

    @property
    def is_seller_app(self) -> bool:
        return bool(self.accounts)

    @property
    def token_type(self) -> str:
        return "SELLER" if self.accounts else "SELF"


@dataclass(frozen=True)
class Store:
    key: StoreKey
    catalog: Catalog
    media_slug: str | None  # None: the default store, whose media URLs have no slug


def slug_of(text: str) -> str:
    """A lowercase [a-z0-9-] form of an id, e.g. "ncp_seller_1" -> "ncp-seller-1"."""
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-")
    return slug or "x"


def derived_seed(*parts: object) -> int:
    """A seed from a base seed and positions: stable across runs and Python versions, unlike hash()."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:6], "big")


class StoreDirectory:
    """Every app and store of one emulator, built once from its config; read-only afterwards."""

    def __init__(self, config: EmulatorConfig, default_catalog: Catalog) -> None:
        self.default_key = StoreKey(config.client_id)
        self._apps: dict[str, AppEntry] = {config.client_id: AppEntry(config.client_id, config.client_secret)}
        self._stores: dict[StoreKey, Store] = {self.default_key: Store(self.default_key, default_catalog, None)}
        self._by_slug: dict[str, Store] = {}
        for position, app in enumerate(config.apps):
            self._apps[app.client_id] = AppEntry(app.client_id, app.client_secret, app.accounts)
            base_seed = app.seed if app.seed is not None else derived_seed(config.seed, "app", position)
            size = app.products if app.products is not None else config.products
            if not app.is_seller_app:
                self._add(StoreKey(app.client_id), Catalog(size, base_seed), slug_of(app.client_id))
            for index, account in enumerate(app.accounts):
                slug = f"{slug_of(app.client_id)}--{slug_of(account)}"
                self._add(StoreKey(app.client_id, account), Catalog(size, derived_seed(base_seed, index)), slug)

    def _add(self, key: StoreKey, catalog: Catalog, wanted_slug: str) -> None:
        slug, suffix = wanted_slug, 1
        while slug in self._by_slug:  # ids that differ only in case or punctuation
            suffix += 1
            slug = f"{wanted_slug}-{suffix}"
        store = self._stores[key] = Store(key, catalog, slug)
        self._by_slug[slug] = store

    @property
    def default(self) -> Store:
        return self._stores[self.default_key]

    @property
    def apps(self) -> tuple[AppEntry, ...]:
        return tuple(self._apps.values())

    def app(self, client_id: str | None) -> AppEntry | None:
        return self._apps.get(client_id) if client_id is not None else None

    def store(self, key: StoreKey) -> Store | None:
        return self._stores.get(key)

    def store_by_slug(self, slug: str) -> Store | None:
        return self._by_slug.get(slug)

    def stores(self) -> tuple[Store, ...]:
        return tuple(self._stores.values())

    def resolve(self, client_id: str | None = None, account_id: str | None = None) -> Store:
        """The store a control names; no client_id names the default app's store."""
        if client_id is None:
            if account_id is not None:
                raise UnknownStoreError("account_id needs the client_id of the SELLER-type app it belongs to")
            return self.default
        app = self._apps.get(client_id)
        if app is None:
            raise UnknownStoreError(f"no emulated app with client_id {client_id!r}")
        if app.is_seller_app and account_id is None:
            raise UnknownStoreError(f"app {client_id!r} is a SELLER-type app: name one of its accounts "
                                    f"({', '.join(app.accounts)})")
        store = self._stores.get(StoreKey(client_id, account_id))
        if store is None:
            raise UnknownStoreError(f"app {client_id!r} has no account {account_id!r}"
                                    if app.is_seller_app else f"app {client_id!r} is a SELF app: it has no accounts")
        return store

    def check_app(self, client_id: str) -> str:
        if client_id not in self._apps:
            raise UnknownStoreError(f"no emulated app with client_id {client_id!r}")
        return client_id
