"""The catalog on Postgres: the connection that speaks as DuckDB does, the schema, the merge, the resource."""
