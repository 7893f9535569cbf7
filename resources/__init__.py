"""What talks to the outside world: the Commerce API client, the DuckDB store, the package writer."""
