"""A package batch keeps the objects alive before it out of the garbage collector's passes while
it runs, and gives them back after; a process that froze objects itself is left as it was."""

from __future__ import annotations

import gc
import weakref

import pytest

from content_assets.packages.batch import _older_objects_frozen


class Node:
    pass


def garbage_cycle() -> weakref.ref:
    node = Node()
    node.itself = node  # only the collector frees it
    return weakref.ref(node)


def test_objects_alive_before_a_batch_are_left_out_of_collections_during_it_and_given_back_after():
    assert gc.get_freeze_count() == 0
    gc.disable()  # no automatic pass between the lines below
    try:
        old = Node()
        old.itself = old
        older = weakref.ref(old)
        with _older_objects_frozen():
            del old
            newer = garbage_cycle()
            gc.collect()
            assert newer() is None  # made during the batch: collected
            assert older() is not None  # alive before it: left out
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert older() is None
    finally:
        gc.enable()


def test_an_error_in_the_batch_still_gives_the_objects_back():
    with pytest.raises(RuntimeError), _older_objects_frozen():
        raise RuntimeError("a package thread failed")
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with _older_objects_frozen():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
