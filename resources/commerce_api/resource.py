"""The Commerce API client as a Dagster resource, configured from the environment."""

from __future__ import annotations

import threading
from typing import Any, Optional

import dagster as dg
from pydantic import PrivateAttr

from .client import DEFAULT_BASE_URL, CommerceApiClient, new_pacers
from .rate_limit import DEFAULT_SAFETY, Pacer
from .registry import Store
from .retry import RetryPolicy

# One set of pacers per app and API address in this process: the buckets are the app's, so every
# client of one app's sellers here waits on the same pacer (the contract's "whose bucket is whose").
_APP_PACERS: dict[tuple[str, str], dict[str, Pacer]] = {}
_APP_PACERS_LOCK = threading.Lock()


def app_pacers(app_key: str, base_url: str, rate: float, safety: float) -> dict[str, Pacer]:
    with _APP_PACERS_LOCK:
        return _APP_PACERS.setdefault((app_key, base_url.rstrip("/")), new_pacers(rate, safety))


class CommerceApiResource(dg.ConfigurableResource):
    """Token-cached, rate-paced access to the Naver Commerce API.

    Set `client_id` and `client_secret` with `dg.EnvVar` so that only the variable names, never
    the values, reach run config and the event log.
    """

    # The `default` store's app, without a stores file (CONTENT_OPS_STORES); with one, each store's
    # app names its own variables (resources/commerce_api/registry.py).
    client_id: Optional[str] = None
    client_secret: Optional[str] = None
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = 10.0
    initial_rate_per_second: float = 2.0
    pacing_safety: float = DEFAULT_SAFETY
    max_retries: int = 5
    backoff_base_seconds: float = 0.25
    max_concurrency: int = 32

    _client: CommerceApiClient | None = PrivateAttr(default=None)
    _store_clients: dict[str, CommerceApiClient] = PrivateAttr(default_factory=dict)

    def __repr_args__(self):  # noqa: ANN204 - keep the secret out of every repr
        return [(k, v) for k, v in super().__repr_args__() if k != "client_secret"]

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        for client in self._store_clients.values():
            client.close()
        self._store_clients.clear()

    def build_client(self, **overrides: Any) -> CommerceApiClient:
        settings: dict[str, Any] = {"base_url": self.base_url, "client_id": self.client_id or "",
                                    "client_secret": self.client_secret or "", **overrides}
        return CommerceApiClient(
            timeout_seconds=self.timeout_seconds,
            initial_rate_per_second=self.initial_rate_per_second,
            pacing_safety=self.pacing_safety,
            retry=RetryPolicy(max_retries=self.max_retries, backoff_base_seconds=self.backoff_base_seconds),
            max_connections=max(self.max_concurrency, 4),
            **settings,
        )

    def get_client(self) -> CommerceApiClient:
        if self._client is None:
            self._client = self.build_client()
        return self._client

    def client_for(self, store: Store, *, configured: bool = False) -> CommerceApiClient:
        """The client that syncs `store`: its app's credentials (read from the environment now),
        its API address and, for a solution app's seller, its account_id; one per store, with its
        app's pacers. `configured`: the store is this resource's own (`default` without a stores
        file), so the resource's client_id, client_secret and base_url are used."""
        if configured:
            return self.get_client()
        client = self._store_clients.get(store.key)
        if client is None:
            client_id, client_secret = store.app.credentials()
            base_url = store.api_base_url()
            client = self._store_clients[store.key] = self.build_client(
                base_url=base_url, client_id=client_id, client_secret=client_secret, account_id=store.account_id,
                pacers=app_pacers(store.app.key, base_url, self.initial_rate_per_second, self.pacing_safety))
        return client
