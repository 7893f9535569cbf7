# content-ops: `make run` syncs against the bundled emulator, `make test` runs the tests.
# Both create the virtual environment and install the project on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME

# `make run` settings (the emulator's; ignored when NAVER_COMMERCE_BASE_URL is set).
PRODUCTS ?= 1000
RATE ?= 20
SEED ?= 42
STORES ?= 1
SELLERS ?= 0

.PHONY: install run test ui emulator clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Only when DAGSTER_HOME has no instance config: one of its own (deploy/dagster.yaml) is kept.
$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	ln -s $(CURDIR)/dagster.yaml $@

install: $(INSTALLED) $(DAGSTER_HOME)/dagster.yaml

run: install
	$(BIN)/python scripts/run.py --products $(PRODUCTS) --rate $(RATE) --seed $(SEED) --stores $(STORES) --sellers $(SELLERS)

# The tests run on TEST_WORKERS processes (pytest-xdist; one more than two cores: a third of the
# suite's time is spent waiting on servers and daemons), with their temporary files (DuckDB files,
# Dagster's SQLite instances, packages) on tmpfs where there is one: an fsync there costs nothing,
# and the suite's Dagster runs spend most of their time in SQLite commits on a disk. A module's
# tests stay on one worker (--dist loadscope): module fixtures such as a live `dagster dev` start once.
TEST_WORKERS ?= 3
TEST_TMPDIR ?= $(firstword $(wildcard /dev/shm) $(TMPDIR) /tmp)

test: install
	TMPDIR=$(TEST_TMPDIR) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

ui: install
	$(BIN)/python scripts/run.py --ui --products $(PRODUCTS) --rate $(RATE) --seed $(SEED) --stores $(STORES) --sellers $(SELLERS)

emulator: install
	$(BIN)/python -m commerce_emulator --products $(PRODUCTS) --rate $(RATE) --seed $(SEED) --port 8787

clean:
	rm -rf data .dagster_home .pytest_cache

# Benchmarks against the emulator (never part of `make test`); output in perf_reports/.
# BENCH_ARGS: e.g. --profile, --fail-on-regression (see `python -m benchmarks --help`).
.PHONY: bench bench-quick chaos

# The bench's real peer (dlt, benchmarks/scenarios/dlt_peer.py) is an extra `make test` never needs.
PEER := $(VENV)/.peer-installed
$(PEER): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev,peer]'
	touch $@

bench: install $(PEER)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-quick: install $(PEER)
	$(BIN)/python -m benchmarks --quick $(BENCH_ARGS)

# The chaos suite (never part of `make test`, which runs its short versions): prints each scenario's
# figures and writes perf_reports/reliability.md. CHAOS_ARGS: e.g. --only kills, --short.
chaos: install
	$(BIN)/python -m benchmarks.chaos $(CHAOS_ARGS)
