"""Sensors that launch package builds: one when the refresh queue has work, one when a template
or the package format changes. Both launch `build_packages`, which drains everything waiting in
one batch, never a run per product.

A sensor reads the DuckDB file only while no run is in progress or queued: DuckDB lets one
process hold the file, and a run that found it held by a sensor would fail to open it. The
check costs one indexed query on the run storage.
"""

import json
from dataclasses import dataclass
from datetime import datetime

import dagster as dg
import duckdb

from resources.store import package_records
from resources.store import DuckDBStore, refresh_queue

from content_assets.sync.checks import PACKAGE_GATE_CHECKS, QUEUE_LEASE_SECONDS
from content_assets.jobs import build_packages_job
from content_assets.packages.settings import PackageSettingsResource
from content_assets.packages.staleness import PackageVersion, count_outdated

# Statuses in which a run may hold the DuckDB file now or soon.
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def active_run(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES), limit=1)
    return runs[0] if runs else None


def _busy(run: dg.DagsterRun) -> dg.SkipReason:
    return dg.SkipReason(f"run {run.run_id[:8]} ({run.job_name}) is {run.status.value}; checking again next tick")


def failing_gate_checks(instance: dg.DagsterInstance) -> list[str]:
    """The products data checks whose latest result is a failure."""
    keys = [key for check in PACKAGE_GATE_CHECKS for key in check.check_keys]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return sorted(key.name for key, record in latest.items() if record.status.value == "FAILED")


def held_back(instance: dg.DagsterInstance, what: str) -> dg.SkipReason | None:
    """Why a sensor must not open the DuckDB file or launch packages now, if it must not: a run is
    active (it holds or will hold the file), or a blocking products check last failed."""
    run = active_run(instance)
    if run is not None:
        return _busy(run)
    failing = failing_gate_checks(instance)
    if failing:
        return dg.SkipReason(f"blocking data check(s) {', '.join(failing)} failed on the last sync; "
                             f"no package is {what} until a sync passes them")
    return None


def _locked(exc: duckdb.Error) -> dg.SkipReason:
    return dg.SkipReason(f"the DuckDB file is held by another process ({exc}); checking again next tick")


# -- the refresh queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingWork:
    """Queue items the next package run would claim (refresh_queue.claim's conditions), and
    packages whose missing pictures are due for a retry (package_records.MISSING_RETRY_DUE)."""

    items: int
    last_change: datetime | None
    retries_due: int = 0
    latest_retry: datetime | None = None

    @property
    def run_key(self) -> str:
        # The same items in the same state give the same key: a tick never launches them twice.
        stamp = self.last_change.isoformat() if self.last_change else "-"
        key = f"refresh-queue:{self.items}:{stamp}"
        if self.retries_due:
            key += f":retries:{self.retries_due}:{self.latest_retry.isoformat() if self.latest_retry else '-'}"
        return key


def waiting_work(con: duckdb.DuckDBPyConnection, *, max_attempts: int, lease_seconds: float) -> WaitingWork:
    predicate, parameters = refresh_queue.claimable(max_attempts, lease_seconds, refresh_queue.gone_holders(con))
    ((items, last_change),) = con.execute(
        f"SELECT count(*), max(updated_at) FROM refresh_queue WHERE {predicate}",  # noqa: S608
        parameters,
    ).fetchall()
    retries_due, latest_retry = package_records.missing_retries_due(con)
    return WaitingWork(int(items), last_change, retries_due, latest_retry)


@dg.sensor(
    job=build_packages_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches one build_packages run for everything waiting in the refresh queue.",
)
def refresh_queue_sensor(context: dg.SensorEvaluationContext, store: DuckDBStore,
                         package_settings: PackageSettingsResource) -> dg.SensorResult | dg.SkipReason:
    held = held_back(context.instance, "built")
    if held is not None:
        return held
    try:
        with store.connect() as catalog:
            work = waiting_work(catalog.con, max_attempts=package_settings.max_attempts,
                                lease_seconds=QUEUE_LEASE_SECONDS)
    except duckdb.IOException as exc:
        return _locked(exc)
    if work.items == 0 and work.retries_due == 0:
        return dg.SkipReason("the refresh queue has nothing waiting")  # nor a picture retry
    if work.run_key == context.cursor:
        return dg.SkipReason(f"already launched a run for these {work.items} item(s)")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=work.run_key, tags={"content_ops/trigger": "refresh_queue",
                                                                "content_ops/items": str(work.items),
                                                                "content_ops/picture_retries": str(work.retries_due)})],
        cursor=work.run_key,
    )


# -- template and package format changes ----------------------------------------------------------


def current_package_version(package_settings: PackageSettingsResource) -> PackageVersion:
    # Read from disk at every tick, so an edited template is seen without reloading the code.
    return package_settings.version()


@dataclass(frozen=True)
class TemplateCursor:
    version: str | None = None  # the package version the sensor last acted on
    rebuilds: int = 0  # how many rebuilds it launched: run keys stay new when a version comes back

    @classmethod
    def parse(cls, cursor: str | None) -> "TemplateCursor":
        return cls(**json.loads(cursor)) if cursor else cls()

    def serialize(self) -> str:
        return json.dumps({"version": self.version, "rebuilds": self.rebuilds})


@dg.sensor(
    job=build_packages_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a post template or the package format changes, launches one build_packages run "
                "that rebuilds every package made with the old version.",
)
def template_change_sensor(context: dg.SensorEvaluationContext, store: DuckDBStore,
                           package_settings: PackageSettingsResource) -> dg.SensorResult | dg.SkipReason:
    cursor = TemplateCursor.parse(context.cursor)
    version = current_package_version(package_settings)
    if cursor.version == version.key:
        return dg.SkipReason(f"packages are up to date with templates {version.key}")
    held = held_back(context.instance, "rebuilt")
    if held is not None:
        return held
    try:
        with store.connect() as catalog:
            stale = count_outdated(catalog.con, version)
    except duckdb.IOException as exc:
        return _locked(exc)
    if stale == 0:
        return dg.SensorResult(skip_reason=f"no package is older than templates {version.key}",
                               cursor=TemplateCursor(version.key, cursor.rebuilds).serialize())
    rebuilds = cursor.rebuilds + 1
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"template-change:{rebuilds}:{version.key}",
                                    tags={"content_ops/trigger": "template_change",
                                          "content_ops/stale_packages": str(stale)})],
        cursor=TemplateCursor(version.key, rebuilds).serialize(),
    )


SENSORS = [refresh_queue_sensor, template_change_sensor]
