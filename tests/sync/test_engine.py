"""The sync pipeline itself (client + store, no Dagster) against the emulator over loopback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer
from content_assets.sync.engine import SyncAborted, run_sync
from resources.commerce_api import CommerceApiClient, RetryPolicy
from resources.store import DuckDBStore


def client_for(server: EmulatorServer, rate: float) -> CommerceApiClient:
    return CommerceApiClient(base_url=server.base_url, client_id=DEFAULT_CLIENT_ID,
                             client_secret=DEFAULT_CLIENT_SECRET, initial_rate_per_second=rate,
                             retry=RetryPolicy(max_retries=4, backoff_base_seconds=0.05))


class ClientWithEvent(CommerceApiClient):
    """Runs `event` once, from inside the sync, right after the `after`-th detail arrives."""

    def __init__(self, *args, after: int, event, **kwargs):
        super().__init__(*args, **kwargs)
        self._after, self._event, self._count, self._lock = after, event, 0, threading.Lock()

    def get_origin_product(self, origin_product_no):
        detail = super().get_origin_product(origin_product_no)
        with self._lock:
            self._count += 1
            if self._count == self._after:
                self._event()
        return detail


def client_with_event(server: EmulatorServer, rate: float, *, after: int, event) -> CommerceApiClient:
    return ClientWithEvent(base_url=server.base_url, client_id=DEFAULT_CLIENT_ID,
                           client_secret=DEFAULT_CLIENT_SECRET, initial_rate_per_second=rate,
                           retry=RetryPolicy(max_retries=4, backoff_base_seconds=0.05), after=after, event=event)


def test_the_client_follows_a_rate_cut_mid_sync_without_a_storm_of_429s(tmp_path: Path):
    with EmulatorServer(EmulatorConfig(products=120, seed=3, rate=40.0, port=0)) as server:
        live = sum(1 for p in server.catalog.products if p.status_type != "DELETE")
        with client_with_event(server, 40.0, after=90, event=lambda: server.set_rate(5.0)) as client, \
                DuckDBStore(database_path=str(tmp_path / "db.duckdb")).connect() as store:
            # 30 workers keep 30 reservations queued at the 40/s spacing when the rate drops.
            report = run_sync(client, store, concurrency=30)
            assert report.details_fetched == live
            assert client.pacers["detail"].advertised_rate == 5.0
            # Reservations made at 40/s are re-timed at 5/s instead of being fired into 429s.
            assert client.stats.total_429 <= 2


def test_a_sync_aborted_midway_resumes_where_it_stopped(tmp_path: Path):
    database = DuckDBStore(database_path=str(tmp_path / "db.duckdb"))
    with EmulatorServer(EmulatorConfig(products=200, seed=4, rate=100.0, port=0)) as server:
        live = sum(1 for p in server.catalog.products if p.status_type != "DELETE")

        # After 80 details the credentials are revoked: even a fresh token is refused (fatal).
        revoke = lambda: server.inject("detail", "401", count=100_000)  # noqa: E731 (until cleared)
        with client_with_event(server, 100.0, after=80, event=revoke) as client, database.connect() as store, \
                pytest.raises(SyncAborted):
            run_sync(client, store, flush_rows=25)
        server.clear_faults()
        with database.connect() as store:
            kept = store.count("product_details")
        assert 80 <= kept < live

        before = server.stats()["requests"]["detail"].get("200", 0)
        with client_for(server, 100.0) as client, database.connect() as store:
            report = run_sync(client, store)
            assert store.count("products") == 200
        assert report.needs_detail == live - kept
        assert server.stats()["requests"]["detail"]["200"] - before == live - kept
