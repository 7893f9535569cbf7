"""The Commerce API client as a Dagster resource, configured from the environment."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from .client import DEFAULT_BASE_URL, CommerceApiClient
from .retry import RetryPolicy


class CommerceApiResource(dg.ConfigurableResource):
    """Token-cached, rate-paced access to the Naver Commerce API.

    Set `client_id` and `client_secret` with `dg.EnvVar` so that only the variable names, never
    the values, reach run config and the event log.
    """

    client_id: str
    client_secret: str
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = 10.0
    initial_rate_per_second: float = 2.0
    pacing_safety: float = 0.99
    max_retries: int = 5
    backoff_base_seconds: float = 0.25
    max_concurrency: int = 32

    _client: CommerceApiClient | None = PrivateAttr(default=None)

    def __repr_args__(self):  # noqa: ANN204 - keep the secret out of every repr
        return [(k, v) for k, v in super().__repr_args__() if k != "client_secret"]

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = self.build_client()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def build_client(self, **overrides: Any) -> CommerceApiClient:
        return CommerceApiClient(
            base_url=self.base_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            timeout_seconds=self.timeout_seconds,
            initial_rate_per_second=self.initial_rate_per_second,
            pacing_safety=self.pacing_safety,
            retry=RetryPolicy(max_retries=self.max_retries, backoff_base_seconds=self.backoff_base_seconds),
            max_connections=max(self.max_concurrency, 4),
            **overrides,
        )

    def get_client(self) -> CommerceApiClient:
        if self._client is None:
            self._client = self.build_client()
        return self._client
