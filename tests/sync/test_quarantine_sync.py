"""Products that can never be synced, against the emulator over loopback (client + store, no Dagster):
quarantined once, held back, tried again when they change or their backoff passes; an outage still
fails the run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commerce_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig, EmulatorServer
from content_assets.sync.engine import run_sync
from resources.commerce_api import CommerceApiClient, RetryPolicy
from resources.store import DuckDBStore


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(products=120, seed=11, rate=500.0, port=0)) as emulator:
        yield emulator


def sync(server: EmulatorServer, database: DuckDBStore, **options):
    client = CommerceApiClient(base_url=server.base_url, client_id=DEFAULT_CLIENT_ID,
                               client_secret=DEFAULT_CLIENT_SECRET, initial_rate_per_second=500.0,
                               retry=RetryPolicy(max_retries=2, backoff_base_seconds=0.01))
    with client, database.connect() as store:
        return run_sync(client, store, **options)


def detail_answers(server: EmulatorServer, status: str) -> int:
    return server.stats()["requests"].get("detail", {}).get(status, 0)


def live_numbers(server: EmulatorServer) -> list[int]:
    return [p.origin_product_no for p in server.catalog.products if p.status_type != "DELETE"]


def quarantine_rows(database: DuckDBStore) -> list[tuple]:
    with database.connect() as store:
        return store.con.execute(
            "SELECT origin_product_no, api, status, code, failures FROM sync_quarantine ORDER BY 1").fetchall()


def test_a_product_that_always_404s_is_quarantined_once_then_held_until_its_backoff_or_a_change(
    server: EmulatorServer, tmp_path: Path,
):
    database = DuckDBStore(database_path=str(tmp_path / "db.duckdb"))
    poison = live_numbers(server)[5]
    server.break_products([poison], "404")

    first = sync(server, database)
    assert quarantine_rows(database) == [(poison, "detail", 404, "NOT_FOUND", 1)]
    assert first.quarantined_new == 1 and first.new_failures == 1

    # The next sync neither asks for it nor counts it.
    asked = detail_answers(server, "404")
    second = sync(server, database)
    assert detail_answers(server, "404") == asked
    assert second.skipped_quarantined == 1 and second.errors == [] and second.error_ratio == 0.0

    # Its backoff passed: tried again, fails again, counted as a repeat, held for longer.
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    third = sync(server, database, now=later)
    assert detail_answers(server, "404") == asked + 1
    assert third.needs_detail == 1 and third.new_failures == 0 and not third.exceeds(0.05)
    assert quarantine_rows(database) == [(poison, "detail", 404, "NOT_FOUND", 2)]
    with database.connect() as store:
        retry_after = store.con.execute("SELECT retry_after FROM sync_quarantine").fetchone()[0]
    assert retry_after == later + timedelta(hours=6)

    # The seller edits it and the API serves it again: fetched at once, and it leaves the quarantine.
    server.break_products([poison], None)
    server.modify(origin_product_nos=[poison])
    fourth = sync(server, database)
    assert fourth.needs_detail == 1 and fourth.details_fetched == 1
    assert quarantine_rows(database) == []
    with database.connect() as store:
        assert store.con.execute("SELECT detail_status FROM catalog_products WHERE origin_product_no = ?",
                                 [poison]).fetchone() == ("synced",)


def test_poison_products_among_few_attempted_do_not_fail_the_next_sync(server: EmulatorServer, tmp_path: Path):
    database = DuckDBStore(database_path=str(tmp_path / "db.duckdb"))
    numbers = live_numbers(server)
    poison, edited = numbers[:3], numbers[10:12]
    server.break_products(poison[:2], "404")
    server.break_products(poison[2:], "invalid")  # a 200 whose detail breaks the contract
    sync(server, database)
    assert [(row[0], row[3]) for row in quarantine_rows(database)] == [
        (poison[0], "NOT_FOUND"), (poison[1], "NOT_FOUND"), (poison[2], None)]

    # Every poison product changed, so all are asked again, among only 5 attempts.
    server.modify(origin_product_nos=[*poison, *edited])
    report = sync(server, database)

    assert report.needs_detail == 5 and len(report.errors) == 3 and report.details_fetched == 2
    assert report.new_failures == 0 and not report.exceeds(0.05)
    assert report.quarantined_new == 0


def test_an_outage_still_fails_the_sync_and_quarantines_nothing(server: EmulatorServer, tmp_path: Path):
    database = DuckDBStore(database_path=str(tmp_path / "db.duckdb"))
    sync(server, database)
    server.modify(origin_product_nos=live_numbers(server)[:8])
    server.set_faults("detail", http_500=1.0)

    report = sync(server, database)

    assert report.needs_detail == 8 and report.new_failures == 8 and report.exceeds(0.05)
    assert quarantine_rows(database) == []


def test_a_sync_judged_failed_records_its_404s_but_tries_them_again_next_time(server: EmulatorServer, tmp_path: Path):
    # 10 of ~110 products answer 404 once: too many to be poison; it looks like the API's fault.
    database = DuckDBStore(database_path=str(tmp_path / "db.duckdb"))
    server.inject("detail", "404", count=10)
    first = sync(server, database)
    assert first.exceeds(0.05) and not first.quarantine_held and len(quarantine_rows(database)) == 10

    second = sync(server, database)

    assert second.needs_detail == 10 and second.details_fetched == 10
    assert quarantine_rows(database) == []
