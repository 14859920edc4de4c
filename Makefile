PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/kpitui demo

test: $(TEST_STAMP)
	$(BIN)/python -m ruff check kpitui tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

lint: $(TEST_STAMP)
	$(BIN)/python -m ruff check kpitui tests benchmarks
	$(BIN)/python -m ruff format --check kpitui tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_store.py

clean:
	rm -rf $(VENV) metrics.db metrics.db-wal metrics.db-shm
