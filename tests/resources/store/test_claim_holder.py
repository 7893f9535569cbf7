"""Claims of a package run that no longer runs are free at once; a live holder's wait for the lease."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from resources.store import migrate, refresh_queue
from resources.store.claim_holder import current_holder, is_gone


def dead_holder() -> str:
    """The holder a process had, once it has exited (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "from resources.store.claim_holder import current_holder; "
                            "print(current_holder())"], capture_output=True, text=True, check=True)
    return child.stdout.strip()


def test_a_live_process_holds_and_an_exited_one_is_gone():
    assert not is_gone(current_holder())
    assert is_gone(dead_holder())
    assert not is_gone("another-host:1:123")  # nothing here can tell: trusted until its lease
    assert not is_gone("garbage")


def test_items_claimed_by_a_killed_run_are_claimed_again_at_once_and_a_live_runs_are_not():
    con = duckdb.connect()
    migrate(con)
    con.execute("""INSERT INTO refresh_queue (origin_product_no, payload_hash, reason, status, attempts,
                   enqueued_at, updated_at) SELECT i, 'h' || i, 'new', 'pending', 0, now(), now() FROM range(1, 5) t(i)""")
    live = refresh_queue.claim(con, limit=1, holder=current_holder())
    killed = refresh_queue.claim(con, limit=2, holder=dead_holder())
    assert [i.origin_product_no for i in live] == [1] and [i.origin_product_no for i in killed] == [2, 3]

    again = refresh_queue.claim(con)

    assert [item.origin_product_no for item in again] == [2, 3, 4]  # 1 waits for its holder or the lease
    assert [item.attempts for item in again] == [2, 2, 1]
