"""Sensors that launch package builds: one when the refresh queue has work, one when a template
or the package format changes. Both launch `build_packages`, which drains everything waiting in
one batch, never a run per product.

Each looks at every store and launches a run per store that has work. A sensor reads a store's
DuckDB file only while no run of that store is in progress or queued: DuckDB lets one process
hold the file, and a run that found it held by a sensor would fail to open it. The check costs
one indexed query on the run storage per store.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import dagster as dg
import duckdb
import psycopg

from resources.store import package_records
from resources.store import CatalogDatabase, CatalogUnavailableError, refresh_queue

from content_assets.environment import STORES
from content_assets.jobs import build_packages_job
from content_assets.stores import PARTITION_TAG
from content_assets.sync.checks import PACKAGE_GATE_KEYS, QUEUE_LEASE_SECONDS
from content_assets.packages.settings import PackageSettingsResource
from content_assets.packages.staleness import PackageVersion, count_outdated

# Statuses in which a run may hold a store's DuckDB file now or soon.
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# How far back a gate check's results are searched for the store's latest.
_CHECK_HISTORY = 200


def active_run(instance: dg.DagsterInstance, store_key: str) -> dg.DagsterRun | None:
    """A run of the store (a sync or a package run) in progress or queued."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES, tags={PARTITION_TAG: store_key}),
                             limit=1)
    return runs[0] if runs else None


def _busy(run: dg.DagsterRun) -> dg.SkipReason:
    return dg.SkipReason(f"run {run.run_id[:8]} ({run.job_name}) is {run.status.value}; checking again next tick")


def failing_gate_checks(instance: dg.DagsterInstance, store_key: str) -> list[str]:
    """The products data checks whose latest result for the store is a failure (a check's result
    names its store; Dagster 1.13 keeps check results per asset, not per partition)."""
    failing = []
    for key in PACKAGE_GATE_KEYS:
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=_CHECK_HISTORY)
        latest = next((record for record in history if _store_of_check(record) == store_key), None)
        if latest is not None and latest.status.value == "FAILED":
            failing.append(key.name)
    return sorted(failing)


def _store_of_check(record) -> str | None:  # noqa: ANN001 - AssetCheckExecutionRecord
    evaluation = record.event.dagster_event.event_specific_data if record.event and record.event.dagster_event else None
    metadata = getattr(evaluation, "metadata", None) or {}
    value = metadata.get("store")
    return getattr(value, "value", None) if value is not None else None


def held_back(instance: dg.DagsterInstance, store_key: str, what: str) -> dg.SkipReason | None:
    """Why a sensor must not open the store's DuckDB file or launch its packages now, if it must
    not: a run of the store is active (it holds or will hold the file), or a blocking products
    check last failed on the store."""
    run = active_run(instance, store_key)
    if run is not None:
        return _busy(run)
    failing = failing_gate_checks(instance, store_key)
    if failing:
        return dg.SkipReason(f"blocking data check(s) {', '.join(failing)} failed on the store's last sync; "
                             f"no package is {what} until a sync passes them")
    return None


def _per_store(reasons: dict[str, str]) -> str:
    """Skip reasons, one per store (the store's key only when there are several)."""
    if len(reasons) == 1 and len(STORES.keys) == 1:
        return next(iter(reasons.values()))
    return "; ".join(f"{key}: {reason}" for key, reason in reasons.items())


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


Found = TypeVar("Found")


def _read_store(context: dg.SensorEvaluationContext, store: CatalogDatabase, store_key: str, what: str,
                read: Callable[[duckdb.DuckDBPyConnection], Found]) -> Found | str:
    """`read` on the store's catalog, or why the store is not looked at now (held_back, or its
    file held by another process)."""
    held = held_back(context.instance, store_key, what)
    if held is not None:
        return held.skip_message or "held back"
    try:
        with store.for_store(store_key).connect() as catalog:
            return read(catalog.con)
    except duckdb.IOException as exc:
        return _locked(exc).skip_message or "locked"
    except (CatalogUnavailableError, psycopg.OperationalError) as exc:
        return f"the catalog database is not reachable ({str(exc).splitlines()[0]}); checking again next tick"


def _queue_work(context: dg.SensorEvaluationContext, store: CatalogDatabase, store_key: str,
                max_attempts: int) -> WaitingWork | str:
    """The store's waiting work, or why it is not looked at now."""
    return _read_store(context, store, store_key, "built", lambda con: waiting_work(
        con, max_attempts=max_attempts, lease_seconds=QUEUE_LEASE_SECONDS))


@dg.sensor(
    job=build_packages_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches one build_packages run per store for everything waiting in its refresh queue.",
)
def refresh_queue_sensor(context: dg.SensorEvaluationContext, store: CatalogDatabase,
                         package_settings: PackageSettingsResource) -> dg.SensorResult | dg.SkipReason:
    launched = json.loads(context.cursor) if context.cursor else {}  # store -> its last run key
    requests, reasons = [], {}
    for key in STORES.keys:
        work = _queue_work(context, store, key, package_settings.max_attempts)
        if isinstance(work, str):
            reasons[key] = work
        elif work.items == 0 and work.retries_due == 0:
            reasons[key] = "the refresh queue has nothing waiting"  # nor a picture retry
        elif work.run_key == launched.get(key):
            reasons[key] = f"already launched a run for these {work.items} item(s)"
        else:
            launched[key] = work.run_key
            requests.append(dg.RunRequest(
                run_key=f"{work.run_key}:{key}", partition_key=key,
                tags={"content_ops/trigger": "refresh_queue", "content_ops/items": str(work.items),
                      "content_ops/picture_retries": str(work.retries_due)}))
    if not requests:
        return dg.SkipReason(_per_store(reasons))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(launched, sort_keys=True))


# -- template and package format changes ----------------------------------------------------------


def current_package_version(package_settings: PackageSettingsResource) -> PackageVersion:
    # Read from disk at every tick, so an edited template is seen without reloading the code.
    return package_settings.version()


@dataclass(frozen=True)
class TemplateCursor:
    version: str | None = None  # the package version the sensor last acted on
    rebuilds: int = 0  # how many rebuilds it launched: run keys stay new when a version comes back
    stores_done: tuple[str, ...] = ()  # stores rebuilt (or found current) at `version`

    @classmethod
    def parse(cls, cursor: str | None) -> "TemplateCursor":
        if not cursor:
            return cls()
        fields = json.loads(cursor)
        return cls(fields.get("version"), fields.get("rebuilds", 0), tuple(fields.get("stores_done", ())))

    def serialize(self) -> str:
        return json.dumps({"version": self.version, "rebuilds": self.rebuilds, "stores_done": list(self.stores_done)})


def _stale_packages(context: dg.SensorEvaluationContext, store: CatalogDatabase, store_key: str,
                    version: PackageVersion) -> int | str:
    """How many of the store's packages are older than `version`, or why it is not looked at now."""
    return _read_store(context, store, store_key, "rebuilt", lambda con: count_outdated(con, version))


@dg.sensor(
    job=build_packages_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a post template or the package format changes, launches a build_packages run per "
                "store that rebuilds every package made with the old version.",
)
def template_change_sensor(context: dg.SensorEvaluationContext, store: CatalogDatabase,
                           package_settings: PackageSettingsResource) -> dg.SensorResult | dg.SkipReason:
    cursor = TemplateCursor.parse(context.cursor)
    version = current_package_version(package_settings)
    done = set(cursor.stores_done) if cursor.version == version.key else set()
    if done >= set(STORES.keys):
        return dg.SkipReason(f"packages are up to date with templates {version.key}")
    rebuilds, requests, reasons = cursor.rebuilds, [], {}
    for key in (key for key in STORES.keys if key not in done):
        stale = _stale_packages(context, store, key, version)
        if isinstance(stale, str):
            reasons[key] = stale
            continue
        done.add(key)
        if stale == 0:
            reasons[key] = f"no package is older than templates {version.key}"
            continue
        rebuilds += 1
        requests.append(dg.RunRequest(run_key=f"template-change:{rebuilds}:{key}:{version.key}", partition_key=key,
                                      tags={"content_ops/trigger": "template_change",
                                            "content_ops/stale_packages": str(stale)}))
    new_cursor = TemplateCursor(version.key, rebuilds, tuple(sorted(done))).serialize()
    if not requests:
        return dg.SensorResult(skip_reason=_per_store(reasons), cursor=new_cursor)
    return dg.SensorResult(run_requests=requests, cursor=new_cursor)


SENSORS = [refresh_queue_sensor, template_change_sensor]
