"""The whole graph, materialized through Dagster against the emulator over loopback, with the
catalog on each backend (a DuckDB file, a Postgres database)."""

from __future__ import annotations

import os

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from commerce_emulator import EmulatorServer
from resources.store import refresh_queue
from tests.support.project import Project, asset_metadata, project_at


@pytest.fixture(params=["duckdb", "postgres"])
def project(request: pytest.FixtureRequest, emulator: EmulatorServer, tmp_path: Path) -> Iterator[Project]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    with project_at(tmp_path, emulator, database_url=url) as configured:
        yield configured


def detail_requests(project: Project) -> int:
    return sum(project.emulator.stats()["requests"].get("detail", {}).values())


def catalog_size(project: Project) -> int:
    return len(project.emulator.catalog.products)


def test_a_full_sync_lands_one_row_per_listed_product(project: Project):
    result = project.materialize()

    with project.connect() as store:
        assert store.count("products") == catalog_size(project)
        numbers = {row[0] for row in store.con.execute("SELECT origin_product_no FROM products").fetchall()}
    assert numbers == {p.origin_product_no for p in project.emulator.catalog.products}
    products = asset_metadata(result, "products")
    assert products["rows_inserted"] == catalog_size(project)
    assert asset_metadata(result, "product_details")["api_429_total"] == 0


def test_second_sync_after_10_percent_modified_fetches_and_enqueues_exactly_those(project: Project):
    project.materialize()
    before = detail_requests(project)
    modified = set(project.emulator.modify(fraction=0.1, seed=3))
    assert len(modified) >= catalog_size(project) // 10 - 1

    result = project.materialize()

    assert detail_requests(project) - before == len(modified)
    assert asset_metadata(result, "product_details")["detail_calls"] == len(modified)
    queue = asset_metadata(result, "refresh_queue")
    assert queue["refresh_queue_enqueue_total"] == len(modified)
    assert queue["enqueued_changed"] == len(modified)
    products = asset_metadata(result, "products")
    assert products["rows_updated"] == len(modified)
    assert products["rows_inserted"] == 0
    with project.connect() as store:
        rebuilt = {row[0] for row in store.con.execute(
            "SELECT origin_product_no FROM refresh_queue WHERE reason = 'changed'").fetchall()}
    assert rebuilt == modified


def test_unchanged_catalog_needs_no_detail_calls_and_writes_no_rows(project: Project):
    project.materialize()
    before = detail_requests(project)
    result = project.materialize()
    assert detail_requests(project) == before
    assert asset_metadata(result, "products")["rows_written"] == 0
    assert asset_metadata(result, "refresh_queue")["refresh_queue_enqueue_total"] == 0


def _package_files(root) -> dict[str, float]:
    files = {}
    for folder, _, names in os.walk(root, followlinks=False):
        for name in names:
            path = os.path.join(folder, name)
            files[path] = os.stat(path).st_mtime_ns
    return files


def test_packages_exist_after_the_first_build_and_a_second_build_writes_nothing(project: Project):
    first = project.materialize()
    built = asset_metadata(first, "content_packages")
    with project.connect() as store:
        live = store.con.execute("SELECT origin_product_no, coalesce(array_length(image_urls, 1), 0) FROM products WHERE status_type <> 'DELETE'").fetchall()
    assert built["packages_built"] == len(live) > 0
    for number, image_count in live:
        package = project.packages_dir / str(number) / "default"
        assert (package / "post.html").read_text().startswith("<div")
        assert (package / "meta.json").exists()
        assert len(list((package / "images").glob("*.jpg"))) == image_count
    snapshot = _package_files(project.packages_dir)

    second = project.materialize()
    assert asset_metadata(second, "content_packages")["packages_built"] == 0

    # Even when every product is queued again, unchanged packages write nothing.
    with project.connect() as store:
        store.con.execute("UPDATE refresh_queue SET status = 'pending'")
    third = project.materialize()
    rebuilt = asset_metadata(third, "content_packages")
    assert rebuilt["packages_unchanged"] == len(live)
    assert rebuilt["bytes_written"] == 0
    assert _package_files(project.packages_dir) == snapshot


def test_changed_product_rewrites_its_package_atomically(project: Project):
    project.materialize()
    number = next(p.origin_product_no for p in project.emulator.catalog.products if p.status_type != "DELETE")
    project.emulator.modify(origin_product_nos=[number])
    link = project.packages_dir / str(number) / "default"
    old_target = os.path.realpath(link)

    result = project.materialize()

    assert asset_metadata(result, "content_packages")["packages_built"] == 1
    assert os.path.realpath(link) != old_target
    assert not os.path.exists(old_target)
    with project.connect() as store:
        assert refresh_queue.status_counts(store.con) == {"done": store.con.execute(
            "SELECT count(*) FROM refresh_queue").fetchone()[0]}


def test_one_missing_product_is_recorded_and_skipped(project: Project):
    project.emulator.inject("detail", "404", count=1)
    result = project.materialize()
    assert result.success
    assert asset_metadata(result, "product_details")["detail_errors"] == 1
    with project.connect() as store:
        errors = store.con.execute("SELECT api, status, code FROM sync_errors").fetchall()
        assert store.count("products") == catalog_size(project) - 1
    assert errors == [("detail", 404, "NOT_FOUND")]


def test_the_run_fails_only_when_the_error_ratio_passes_the_threshold(project: Project):
    failing = catalog_size(project) // 10  # 10%
    project.emulator.inject("detail", "404", count=failing)
    result = project.materialize(
        raise_on_error=False,
        run_config={"ops": {"catalog_sync": {"config": {"max_error_ratio": 0.05}}}},
    )
    assert not result.success
    with project.connect() as store:
        # what succeeded is kept, so the next run resumes from there
        assert store.count("products") == catalog_size(project) - failing


def test_a_failed_sync_resumes_without_refetching_what_it_has(project: Project):
    failing = catalog_size(project) * 3 // 20  # 15%
    project.emulator.inject("detail", "404", count=failing)
    project.materialize(raise_on_error=False, run_config={"ops": {"catalog_sync": {"config": {"max_error_ratio": 0.01}}}})
    before = detail_requests(project)
    result = project.materialize()
    assert detail_requests(project) - before == failing
    assert asset_metadata(result, "products")["rows_inserted"] == failing


def test_definitions_load():
    from content_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"product_list", "product_details", "products", "refresh_queue", "content_packages"}
