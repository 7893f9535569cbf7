"""The DuckDB concurrency pool every asset runs in (and the group the assets show in), readied on
an instance before any run is queued on it."""

import dagster as dg

# Every asset here writes the one DuckDB file; dagster.yaml limits the pool to one run at a time.
POOL = "duckdb"
GROUP = "content_ops"


def ensure_pool_limit(instance: dg.DagsterInstance) -> bool:
    """Give the duckdb pool its limit (dagster.yaml's `default_limit`) now; True if it had none.

    Dagster 1.13's run queue reads the pools it knows before it gives a new one the default limit,
    so on a fresh instance the first batch of queued runs all start at once: a schedule, a sensor
    and a person queueing together would all open the DuckDB file. Set ahead, the limit holds
    from the first run.
    """
    if POOL in instance.event_log_storage.get_concurrency_keys():
        return False
    return instance.event_log_storage.initialize_concurrency_limit_to_default(POOL)
