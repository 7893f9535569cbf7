"""A store's summary.json beside its gallery, and the top page of PACKAGES_DIR that lists every
store from those summaries (content_assets/packages/gallery.py)."""

from __future__ import annotations

import fcntl
import json
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from content_assets.packages.gallery import (
    INDEX_LOCK,
    GallerySummary,
    refresh_gallery,
    refresh_store_index,
)
from resources.package_files.writer import PackageWriter
from tests.support.crafted_store import CraftedStore
from tests.support.html_checks import active_content


class _StoreRows(HTMLParser):
    """Each store row of the top page: its cells' text and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, dict] = {}
        self.links: list[str] = []
        self._row: dict | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "tr" and (values.get("id") or "").startswith("store-"):
            self._row = self.rows.setdefault(values["id"].removeprefix("store-"), {"cells": [], "links": []})
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "a":
            self.links.append(values["href"])
            if self._row is not None:
                self._row["links"].append(values["href"])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None


def top_page(root: Path) -> _StoreRows:
    parser = _StoreRows()
    parser.feed((root / "index.html").read_text())
    return parser


def write_summary(root: Path, key: str, **counts) -> None:
    (root / key).mkdir(parents=True, exist_ok=True)
    (root / key / "summary.json").write_bytes(GallerySummary(**counts).to_json())


def test_the_top_page_lists_every_store_with_its_counts_status_and_link(tmp_path: Path):
    write_summary(tmp_path, "rice", total=12, packages=11, ready=9, failed=1, quarantined=1, missing_picture=1,
                  latest_build_at="2025-05-01T12:00:00+09:00")
    write_summary(tmp_path, "tea", total=3, packages=3, ready=2, missing_picture=1)
    stores = [("rice", "햅쌀 농장"), ("tea", "녹차 <b>하우스</b>"), ("new", "새 가게")]

    written = refresh_store_index(tmp_path, stores)

    page = top_page(tmp_path)
    assert written == (tmp_path / "index.html").stat().st_size
    assert list(page.rows) == ["rice", "tea", "new"]  # in the order given
    columns = ["store", "status", "total", "ready", "failed", "quarantined", "missing", "waiting", "latest"]
    rice, tea, new = (dict(zip(columns, page.rows[key]["cells"], strict=True)) for key in ("rice", "tea", "new"))
    assert rice["store"] == "햅쌀 농장 (rice)" and rice["status"] == "failures"
    assert [rice[c] for c in columns[2:8]] == ["12", "9", "1", "1", "1", "0"]
    assert rice["latest"] == "2025-05-01T12:00:00+09:00"
    assert tea["status"] == "ok" and tea["missing"] == "1"
    assert tea["store"] == "녹차 <b>하우스</b> (tea)"  # the display name is text, not markup
    assert new["status"] == "no packages yet" and new["total"] == ""  # no folder yet
    assert [page.rows[key]["links"] for key in ("rice", "tea", "new")] == \
        [["rice/index.html"], ["tea/index.html"], ["new/index.html"]]
    assert active_content((tmp_path / "index.html").read_text(), document=True) == []


def test_a_store_without_packages_or_with_a_broken_summary_says_so(tmp_path: Path):
    write_summary(tmp_path, "empty")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text('{"total": "many"')

    refresh_store_index(tmp_path, [("empty", "빈 가게"), ("broken", "고장")])

    page = top_page(tmp_path)
    assert page.rows["empty"]["cells"][1] == "no packages yet"
    assert page.rows["broken"]["cells"][1] == "summary unreadable"


def test_the_top_page_is_rewritten_only_when_a_summary_changes(tmp_path: Path):
    write_summary(tmp_path, "rice", total=2, packages=2, ready=2)
    assert refresh_store_index(tmp_path, [("rice", "쌀")]) > 0
    before = (tmp_path / "index.html").stat().st_mtime_ns

    assert refresh_store_index(tmp_path, [("rice", "쌀")]) == 0
    assert (tmp_path / "index.html").stat().st_mtime_ns == before

    write_summary(tmp_path, "rice", total=2, packages=2, ready=1, failed=1)
    assert refresh_store_index(tmp_path, [("rice", "쌀")]) > 0
    assert top_page(tmp_path).rows["rice"]["cells"][1] == "failures"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".index.lock", "index.html", "rice"]  # no temporary left


def test_a_store_key_that_is_not_a_slug_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="not a slug"):
        refresh_store_index(tmp_path, [("../etc", "x")])


def test_the_top_page_waits_for_the_lock_and_then_reads_the_latest_summaries(tmp_path: Path):
    """What the lock is for: a refresh that starts while another holds the lock reads the summaries
    as they are once it is released, so it cannot write a page older than the other's."""
    write_summary(tmp_path, "rice", total=1, packages=1, ready=1)
    lock = open(tmp_path / INDEX_LOCK, "a+b")  # noqa: SIM115
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
    refresh = threading.Thread(target=refresh_store_index, args=(tmp_path, [("rice", "쌀")]))
    refresh.start()
    refresh.join(timeout=0.3)
    try:
        assert refresh.is_alive() and not (tmp_path / "index.html").exists()  # held back by the lock
        write_summary(tmp_path, "rice", total=1, packages=1, failed=1)  # the other run's summary, meanwhile
    finally:
        lock.close()
    refresh.join()

    assert top_page(tmp_path).rows["rice"]["cells"][1] == "failures"


def test_refresh_gallery_writes_the_summary_beside_the_gallery_only_when_it_changes(store: CraftedStore,
                                                                                   tmp_path: Path):
    store.add_products(1, 6)
    store.add_packages(1, 5, template_version="t", settings_hash="s")  # 6 has none
    store.enqueue(2, 1, status="failed")
    store.enqueue(6, 1, status="failed")
    store.enqueue(3, 1, status="pending")
    store.execute("UPDATE packages SET missing_images = 1, built_at = TIMESTAMPTZ '2025-05-01 03:00:00+00' "
                  "WHERE origin_product_no = 4")
    store.execute("UPDATE packages SET built_at = TIMESTAMPTZ '2025-04-01 03:00:00+00' WHERE origin_product_no <> 4")
    writer = PackageWriter(packages_dir=str(tmp_path / "rice"))

    with store.resource.connect() as catalog:
        first = refresh_gallery(catalog.con, writer, 6, changed=True)
        again = refresh_gallery(catalog.con, writer, 6, changed=True)

    summary = json.loads((writer.root / "summary.json").read_text())
    assert summary == {"total": 6, "packages": 5, "ready": 2, "failed": 2, "quarantined": 0, "missingPicture": 1,
                       "waiting": 1, "latestBuildAt": summary["latestBuildAt"]}
    assert summary["latestBuildAt"].startswith("2025-05-01")
    assert first.bytes_written > 0 and again.bytes_written == 0
    assert '<a href="../index.html">' in (writer.root / "index.html").read_text()  # back to every store
