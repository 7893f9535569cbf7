"""The performance harness of issue 4: scenarios against the emulator, the baseline client, perf_reports/.

Run it with `make bench-quick` or `make bench` (see perf_reports/README.md).
"""
