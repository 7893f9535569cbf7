"""Benchmark scenarios. Each `run(params)` runs in a child process of its own and returns plain JSON."""
