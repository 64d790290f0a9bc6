# The two commands: `make run` (gateway + embedded simulators) and `make test` (ruff, import contracts,
# mypy, pytest).
# Both create or refresh .venv from pyproject.toml first; no manual step.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/chargegate serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the layers, docs/architecture.md; cycles: tests/test_import_cycles.py
	$(BIN)/mypy  # gateway, resolvers and operators, as [tool.mypy] in pyproject.toml says

test: lint
	$(BIN)/python -m pytest

# Benchmarks (bench/): about 7 minutes on 2 cores; writes bench/results/latest.{md,json,png}.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bench/peer/install.sh  # the Yoga peer: Node (Debian) when missing, npm packages from its lockfile
	$(BIN)/python -m bench

schema: $(STAMP)
	$(BIN)/chargegate export-schema
	$(BIN)/chargegate export-schema --federation

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
