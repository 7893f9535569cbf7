"""The refresh queue on both backends: enqueueing is idempotent, a claim takes each item once, a
finish closes only the version it claimed; on Postgres, package runs claiming at once share nothing."""

from __future__ import annotations

import threading

import pytest

from resources.store import PostgresStore, refresh_queue
from tests.support.crafted_store import CraftedStore


def _enqueue(store: CraftedStore) -> refresh_queue.EnqueueCounts:
    with store.resource.connect() as catalog:
        catalog.con.execute("BEGIN TRANSACTION")
        counts = refresh_queue.enqueue_changed_products(catalog.con)
        catalog.con.execute("COMMIT")
    return counts


def test_enqueueing_tells_new_from_changed_and_enqueues_a_version_once(store: CraftedStore):
    store.add_products(1, 5)
    assert (_enqueue(store).new, _enqueue(store).total) == (5, 0)
    store.execute("UPDATE products SET payload_hash = 'changed' WHERE origin_product_no IN (2, 3)")
    store.execute("UPDATE products SET status_type = 'DELETE', payload_hash = 'gone' WHERE origin_product_no = 4")
    counts = _enqueue(store)
    assert (counts.new, counts.changed) == (0, 2)
    assert store.execute("SELECT origin_product_no, reason, status FROM refresh_queue WHERE reason = 'changed' "
                         "ORDER BY 1") == [(2, "changed", "pending"), (3, "changed", "pending")]


def test_a_claim_takes_each_item_once_and_a_finish_closes_only_the_claimed_version(store: CraftedStore):
    store.add_products(1, 6)
    _enqueue(store)
    with store.resource.connect() as catalog:
        first = refresh_queue.claim(catalog.con, limit=4)
        second = refresh_queue.claim(catalog.con, limit=4)
    assert [i.origin_product_no for i in first] == [1, 2, 3, 4] and [i.origin_product_no for i in second] == [5, 6]
    store.execute("UPDATE products SET payload_hash = 'newer' WHERE origin_product_no = 2")
    _enqueue(store)  # product 2 changed while its package was being built
    with store.resource.connect() as catalog:
        refresh_queue.finish(catalog.con, first[:3], [(first[3], "HTTP 404 on a picture")])
        assert refresh_queue.status_counts(catalog.con) == {"done": 2, "pending": 1, "failed": 1, "in_progress": 2}
        assert refresh_queue.failed_products(catalog.con) == {4}


def test_package_runs_claiming_at_once_on_postgres_never_share_an_item(postgres_url: str):
    store = CraftedStore(PostgresStore(url=postgres_url))
    store.add_products(1, 2_000)
    _enqueue(store)
    claims: list[list[int]] = []
    start = threading.Barrier(4)

    def claimer() -> None:
        start.wait()
        taken = []
        while True:
            with store.resource.connect() as catalog:
                items = refresh_queue.claim(catalog.con, limit=50, holder=f"worker-{threading.get_ident()}")
            if not items:
                break
            taken += [item.origin_product_no for item in items]
        claims.append(taken)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = [number for taken in claims for number in taken]
    assert len(claims) == 4 and sorted(every) == list(range(1, 2_001))  # each item once, none left
    assert sum(1 for taken in claims if taken) >= 2  # they really ran side by side
    assert store.execute("SELECT count(*), max(attempts) FROM refresh_queue WHERE status = 'in_progress'") == \
        [(2_000, 1)]


@pytest.mark.parametrize("holder_gone", [True, False])
def test_an_item_of_a_holder_gone_is_claimable_again(store: CraftedStore, holder_gone: bool):
    store.add_products(1, 1)
    store.enqueue(1, 1, status="in_progress", attempts=1)
    holder = "gone-host:1:1" if not holder_gone else _dead_local_holder()
    store.execute("UPDATE refresh_queue SET claimed_by = ?", [holder])
    with store.resource.connect() as catalog:
        again = refresh_queue.claim(catalog.con)
    assert [i.origin_product_no for i in again] == ([1] if holder_gone else [])


def _dead_local_holder() -> str:
    from tests.resources.store.test_claim_holder import dead_holder

    return dead_holder()
