"""The sync pipeline itself (client + store, no Dagster) against the emulator over loopback."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer
from content_assets.sync import engine
from content_assets.sync.engine import SyncAborted, run_sync
from content_assets.sync.store_writer import MAX_PENDING_LISTINGS
from resources.commerce_api import CommerceApiClient, RetryPolicy
from resources.commerce_api.rate_limit import DEFAULT_SAFETY
from resources.store import CatalogStore, DuckDBStore


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


def test_a_lister_far_ahead_of_a_slow_writer_is_held_back(tmp_path: Path):
    # Every page taken holds its products until its listing is written: the loop takes no more
    # pages than the writer has room for, so the lister waits and memory stays bounded.
    class SlowListingStore(CatalogStore):
        def __init__(self, con, client_box):
            super().__init__(con)
            self.client_box, self.written, self.most_ahead = client_box, 0, 0

        def write_listing(self, products):
            time.sleep(0.03)
            self.written += 1
            listed = self.client_box[0].stats.requests[("search", "200")]
            self.most_ahead = max(self.most_ahead, listed - self.written)
            return super().write_listing(products)

    with EmulatorServer(EmulatorConfig(products=3000, seed=5, rate=5000.0, port=0)) as server:
        with client_for(server, 5000.0) as client, \
                DuckDBStore(database_path=str(tmp_path / "db.duckdb")).connect() as opened:
            store = SlowListingStore(opened.con, [client])
            report = run_sync(client, store, page_size=50, concurrency=4)
    assert report.listed == 3000 and report.pages == 60
    # The writer's room, the lister's queue (8) and a page in hand on either side.
    assert store.most_ahead <= MAX_PENDING_LISTINGS + 8 + 2, store.most_ahead


def test_the_default_pacing_meets_a_gateway_that_refills_by_whole_seconds_at_the_real_rate(tmp_path: Path):
    # Spring Cloud Gateway's limiter adds a second's tokens at each second boundary; at the real
    # API's 2 req/s the pacer, spending continuously at DEFAULT_SAFETY with one token in hand and
    # trusting the server's Remaining, meets it without a 429 (the bench proves it on 982 calls).
    with EmulatorServer(EmulatorConfig(products=44, seed=6, rate=2.0, port=0, refill="whole-seconds",
                                       latency_ms=50.0, latency_jitter_ms=15.0)) as server:
        live = sum(1 for p in server.catalog.products if p.status_type != "DELETE")
        with CommerceApiClient(base_url=server.base_url, client_id=DEFAULT_CLIENT_ID,
                               client_secret=DEFAULT_CLIENT_SECRET, initial_rate_per_second=2.0) as client, \
                DuckDBStore(database_path=str(tmp_path / "db.duckdb")).connect() as store:
            started = time.perf_counter()
            report = run_sync(client, store)
            wall = time.perf_counter() - started
    assert report.details_fetched == live
    assert client.stats.total_429 == 0
    assert client.pacers["detail"].safety == DEFAULT_SAFETY  # never lowered by a 429
    assert wall >= (live - 4) / 2.0 * 0.95  # and it did wait on the limit, not around it


def test_the_loop_stops_asking_for_pages_once_the_listing_has_ended(tmp_path: Path, monkeypatch):
    # After the end of the listing there is no page to wait for: asking anyway held the loop up
    # to 0.2 s (the lister's wait) after the last detail had landed, at the end of every sync.
    asked_after_the_end = []

    class CountingLister(engine.Lister):
        def take(self, *, wait):
            if self.done:
                asked_after_the_end.append(wait)
            return super().take(wait=wait)

    monkeypatch.setattr(engine, "Lister", CountingLister)
    with EmulatorServer(EmulatorConfig(products=60, seed=9, rate=500.0, port=0)) as server:
        live = sum(1 for p in server.catalog.products if p.status_type != "DELETE")
        with client_for(server, 500.0) as client, \
                DuckDBStore(database_path=str(tmp_path / "db.duckdb")).connect() as store:
            report = run_sync(client, store, page_size=20, concurrency=2)
    assert report.details_fetched == live and report.pages == 3
    assert asked_after_the_end == []


def test_near_the_end_details_are_written_in_small_chunks(tmp_path: Path):
    # The warm-up stages the packages of each written chunk: with a write every flush_seconds,
    # the last one before the tail held everything fetched since the previous write, staged all
    # at once as the sync ended. Once the sync ends within a flush interval, writes come every
    # ENDING_FLUSH_SECONDS (here from the start: 150 details at 20 req/s take about 6 s).
    chunks: list[int] = []
    with EmulatorServer(EmulatorConfig(products=150, seed=4, rate=20.0, port=0)) as server:
        live = sum(1 for p in server.catalog.products if p.status_type != "DELETE")
        with client_for(server, 20.0) as client, \
                DuckDBStore(database_path=str(tmp_path / "db.duckdb")).connect() as store:
            report = run_sync(client, store, flush_seconds=30.0,
                              on_stored=lambda _store, numbers: chunks.append(len(numbers)))
    assert report.details_fetched == live == sum(chunks)
    # The first write holds the burst the bucket lets through at once; none holds half the sync.
    assert max(chunks) <= live / 2, chunks
