"""The chaos suite (`make chaos`, `python -m benchmarks.chaos`): content-ops against a hostile copy
of the API, judged by invariants that must hold whatever goes wrong. Each scenario module has
`run(short, workdir) -> ScenarioResult`; see __main__.py for the order and perf_reports/reliability.md
for the last long run's figures."""
