# Two commands on a fresh clone: `make demo` and `make test`.
# Each creates .venv when it is missing and reinstalls when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKSPACE ?= demo-workspace
DEMO_ARGS ?=

.PHONY: demo test lint format bench docs clean help

help:
	@echo "make demo   run the weekly job end to end on a synthetic local authority"
	@echo "make test   lint (ruff) and run the test suite"
	@echo "make bench  run the benchmarks (slow; figures go in docs/benchmarks.md)"
	@echo "make docs   regenerate docs that are generated from code"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/cmooe-risk --workspace $(WORKSPACE) demo $(DEMO_ARGS)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

docs: $(VENV)/.installed
	$(BIN)/cmooe-risk docs

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(WORKSPACE) .pytest_cache .ruff_cache .hypothesis
