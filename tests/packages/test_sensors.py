"""The sensors, evaluated in-process against a real DuckDB file and a real (test) instance."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from content_assets.check_steps import check_step
from content_assets.packages import plan as packaging
from content_assets.packages.sensors import current_package_version as version_with
from content_assets.packages.sensors import refresh_queue_sensor, template_change_sensor
from content_assets.packages.settings import PackageSettingsResource
from content_assets.sync.checks import PRODUCTS_DATA
from resources.store import DuckDBStore, PostgresStore
from tests.support.crafted_store import CraftedStore
from tests.support.servers import free_port


def current_package_version():  # noqa: ANN201
    """The version a package built now with the code location's package settings has."""
    return version_with(PackageSettingsResource())


def stand_in_products() -> dg.AssetsDefinition:
    @dg.asset(name="products")
    def _products() -> None:
        return None

    return _products


def evaluate(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, store: CraftedStore,
             cursor: str | None = None, settings: PackageSettingsResource | None = None) -> dg.SensorExecutionData:
    resources = {"store": store.resource, "package_settings": settings or PackageSettingsResource()}
    from content_assets.definitions import defs

    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources,
                                      repository_def=defs.get_repository_def())
    return sensor.evaluate_tick(context)


def test_pending_items_launch_one_batched_run_with_a_run_key(instance, store: CraftedStore):
    store.add_products(1, 300)
    store.enqueue(1, 300)

    tick = evaluate(refresh_queue_sensor, instance, store)

    (request,) = tick.run_requests
    assert request.run_key and request.run_key.startswith("refresh-queue:300:")
    assert request.tags["content_ops/items"] == "300"
    assert request.partition_key == "default"
    assert json.loads(tick.cursor) == {"default": request.run_key.removesuffix(":default")}


def test_a_tick_never_launches_the_same_items_twice(instance, store: CraftedStore):
    store.add_products(1, 50)
    store.enqueue(1, 50)
    first = evaluate(refresh_queue_sensor, instance, store)

    again = evaluate(refresh_queue_sensor, instance, store, cursor=first.cursor)

    assert again.run_requests == []
    assert "already launched" in again.skip_message


def test_items_enqueued_after_a_launch_get_a_new_run(instance, store: CraftedStore):
    store.add_products(1, 60)
    store.enqueue(1, 50)
    first = evaluate(refresh_queue_sensor, instance, store)
    store.enqueue(51, 10)

    second = evaluate(refresh_queue_sensor, instance, store, cursor=first.cursor)

    (request,) = second.run_requests
    assert request.run_key != first.run_requests[0].run_key
    assert request.tags["content_ops/items"] == "60"


def test_done_items_and_failed_items_out_of_attempts_launch_nothing(instance, store: CraftedStore):
    store.add_products(1, 20)
    store.enqueue(1, 10, status="done")
    store.enqueue(11, 10, status="failed", attempts=3)

    tick = evaluate(refresh_queue_sensor, instance, store)

    assert tick.run_requests == []
    assert tick.skip_message == "the refresh queue has nothing waiting"


def test_retryable_failures_and_expired_leases_count_as_waiting(instance, store: CraftedStore):
    store.add_products(1, 20)
    store.enqueue(1, 5, status="failed", attempts=1)
    store.enqueue(6, 5, status="in_progress", updated_seconds_ago=3600)  # its run died
    store.enqueue(11, 5, status="in_progress", updated_seconds_ago=10)  # a run is on it

    (request,) = evaluate(refresh_queue_sensor, instance, store).run_requests

    assert request.tags["content_ops/items"] == "10"


def test_no_tick_touches_the_database_while_a_run_is_in_progress(instance, store: CraftedStore):
    store.add_products(1, 10)
    store.enqueue(1, 10)
    instance.add_run(dg.DagsterRun(job_name="sync_catalog", run_id="b" * 36, status=dg.DagsterRunStatus.STARTED,
                                   tags={"dagster/partition": "another-store"}))
    assert len(evaluate(refresh_queue_sensor, instance, store).run_requests) == 1  # another store's run
    instance.add_run(dg.DagsterRun(job_name="sync_catalog", run_id="a" * 36, status=dg.DagsterRunStatus.STARTED,
                                   tags={"dagster/partition": "default"}))

    for sensor in (refresh_queue_sensor, template_change_sensor):
        tick = evaluate(sensor, instance, store)
        assert tick.run_requests == []
        assert "sync_catalog" in tick.skip_message and "STARTED" in tick.skip_message


def test_no_packages_are_built_while_a_products_data_check_is_failing(instance, store: CraftedStore):
    store.add_products(1, 10)
    store.enqueue(1, 10)
    store.execute("UPDATE products SET sale_price = 0 WHERE origin_product_no = 3")
    judge = [stand_in_products(), check_step("products_data_checks", [PRODUCTS_DATA])]
    dg.materialize(judge, instance=instance, resources={"store": store.resource}, raise_on_error=False)

    for sensor in (refresh_queue_sensor, template_change_sensor):
        held = evaluate(sensor, instance, store)
        assert held.run_requests == []
        assert "products_name_and_price_valid failed" in held.skip_message

    store.execute("UPDATE products SET sale_price = 1000 WHERE origin_product_no = 3")
    dg.materialize(judge, instance=instance, resources={"store": store.resource})
    assert len(evaluate(refresh_queue_sensor, instance, store).run_requests) == 1


def test_a_database_held_by_another_process_skips_the_tick(instance, tmp_path):
    store = CraftedStore(DuckDBStore(database_path=str(tmp_path / "content.duckdb")))  # a file lock: DuckDB's
    store.add_products(1, 10)
    store.enqueue(1, 10)
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", hold, store.resource.database_path],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        tick = evaluate(refresh_queue_sensor, instance, store)
    finally:
        holder.kill()
        holder.wait()

    assert tick.run_requests == []
    assert "held by another process" in tick.skip_message


def test_a_catalog_database_out_of_reach_skips_the_tick_in_one_line_without_its_password(instance):
    url = f"postgresql://agency:s3cret-pw@127.0.0.1:{free_port()}/catalog"
    store = CraftedStore(PostgresStore(url=url, connect_timeout_seconds=1.0))

    tick = evaluate(refresh_queue_sensor, instance, store)

    assert tick.run_requests == []
    assert "catalog database postgresql://agency@127.0.0.1" in tick.skip_message
    assert "cannot be reached" in tick.skip_message and "s3cret-pw" not in tick.skip_message


def test_a_tick_with_10000_pending_items_takes_under_200_ms(instance, store: CraftedStore, record_property):
    store.add_products(1, 10_000)
    store.enqueue(1, 10_000)
    evaluate(refresh_queue_sensor, instance, store)  # first use: imports and the DuckDB extension load

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        tick = evaluate(refresh_queue_sensor, instance, store)  # no cursor: the full path every time
        timings.append(time.perf_counter() - started)
        assert tick.run_requests[0].tags["content_ops/items"] == "10000"

    record_property("refresh_queue_sensor_tick_ms", [round(t * 1000, 1) for t in timings])
    print(f"refresh_queue_sensor tick with 10,000 pending items: "
          f"median {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms")
    assert statistics.median(timings) < 0.2


# -- template changes -------------------------------------------------------------------------


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's templates that the sensor reads as the project's own."""
    folder = tmp_path / "templates"
    shutil.copytree(packaging.TEMPLATES_DIR, folder)
    monkeypatch.setattr(packaging, "TEMPLATES_DIR", folder)
    return folder


def test_packages_built_with_the_current_templates_need_no_rebuild(instance, store: CraftedStore, templates: Path):
    version = current_package_version()
    store.add_products(1, 100)
    store.add_packages(1, 100, template_version=version.templates["default"], settings_hash=version.settings)

    tick = evaluate(template_change_sensor, instance, store)

    assert tick.run_requests == []
    assert tick.cursor is not None  # remembered, so later ticks do not even open the database


def test_a_template_edit_launches_one_rebuild_run_for_every_stale_package(
    instance, store: CraftedStore, templates: Path
):
    version = current_package_version()
    store.add_products(1, 100)
    store.add_packages(1, 100, template_version=version.templates["default"], settings_hash=version.settings)
    settled = evaluate(template_change_sensor, instance, store).cursor

    post = templates / "default.html.j2"
    post.write_text(post.read_text() + "\n{# a new closing line #}\n")
    tick = evaluate(template_change_sensor, instance, store, cursor=settled)

    (request,) = tick.run_requests
    assert request.tags["content_ops/stale_packages"] == "100"
    assert request.run_key == f"template-change:1:default:{current_package_version().key}"
    # The same version never launches again...
    assert evaluate(template_change_sensor, instance, store, cursor=tick.cursor).run_requests == []


def test_going_back_to_an_earlier_template_is_a_new_rebuild_with_a_new_run_key(
    instance, store: CraftedStore, templates: Path
):
    post = templates / "default.html.j2"
    original = post.read_text()
    version = current_package_version()
    store.add_products(1, 10)
    store.add_packages(1, 10, template_version=version.templates["default"], settings_hash=version.settings)
    cursor = evaluate(template_change_sensor, instance, store).cursor

    post.write_text(original + "\n{# edited #}\n")
    edited = evaluate(template_change_sensor, instance, store, cursor=cursor)
    store.add_packages(1, 10, template_version=current_package_version().templates["default"],
                       settings_hash=version.settings)  # the rebuild ran
    post.write_text(original)
    reverted = evaluate(template_change_sensor, instance, store, cursor=edited.cursor)

    (first,), (second,) = edited.run_requests, reverted.run_requests
    assert first.run_key != second.run_key
    assert second.run_key == f"template-change:2:default:{version.key}"


def test_sensors_are_on_by_default_and_target_the_batched_package_job():
    for sensor in (refresh_queue_sensor, template_change_sensor):
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.job_name == "build_packages"


def test_a_package_setting_changed_in_the_code_location_reaches_both_sensors(instance, store: CraftedStore):
    """One source of package settings: what the package run builds with is what the sensors judge by."""
    version = current_package_version()
    store.add_products(1, 10)
    store.add_packages(1, 10, template_version=version.templates["default"], settings_hash=version.settings)
    store.enqueue(11, 4, status="failed", attempts=3)
    assert evaluate(template_change_sensor, instance, store).run_requests == []
    assert evaluate(refresh_queue_sensor, instance, store).run_requests == []  # out of attempts at 3

    narrower = PackageSettingsResource(image_max_width=640, max_attempts=5)
    (rebuild,) = evaluate(template_change_sensor, instance, store, settings=narrower).run_requests
    (retry,) = evaluate(refresh_queue_sensor, instance, store, settings=narrower).run_requests

    assert rebuild.tags["content_ops/stale_packages"] == "10"
    assert retry.tags["content_ops/items"] == "4"
    assert version_with(narrower).settings == narrower.settings().fingerprint != version.settings
