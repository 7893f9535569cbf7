"""Names every content-ops asset shares."""

# Every asset here writes the one DuckDB file; dagster.yaml limits the pool to one run at a time.
POOL = "duckdb"
GROUP = "content_ops"
