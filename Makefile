# Two commands on a fresh clone: `make demo` and `make test`.
# Each creates .venv when it is missing and reinstalls when pyproject.toml or
# constraints.txt changes. Both install exactly the versions in constraints.txt, the ones
# CI tested; `make test-latest` tries the newest versions pyproject.toml allows.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LATEST_VENV ?= .venv-latest
LOCK_VENV ?= .venv-lock
WORKSPACE ?= demo-workspace
DEMO_ARGS ?=
CONSTRAINTS := constraints.txt
# pip, setuptools, wheel and uv come from the constraints too, and the package is built
# with them (no isolated build environment fetching the newest setuptools). pip installs
# the build tools; uv then installs the project and its dependencies: the same versions
# pip would install (from constraints.txt), in 30 s rather than 70 s on a fresh clone.
PIP_INSTALL = -m pip install --quiet --disable-pip-version-check
BUILD_TOOLS := pip setuptools wheel uv
UV_INSTALL = $(BIN)/uv pip install --quiet --python $(BIN)/python -c $(CONSTRAINTS) --no-build-isolation

.PHONY: demo test test-fast test-latest lint format bench docs lock clean help

help:
	@echo "make demo         run the weekly job end to end on a synthetic local authority"
	@echo "make test         lint (ruff) and run the test suite, on the locked versions"
	@echo "make test-fast    every module's logic on tiny inputs, in under 2 minutes (no lint)"
	@echo "make test-latest  the same on the newest versions pyproject.toml allows (.venv-latest)"
	@echo "make lock         re-resolve constraints.txt (then run make test-latest and make test)"
	@echo "make bench        run the benchmarks (slow; figures go in docs/benchmarks.md)"
	@echo "make docs         regenerate docs that are generated from code"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python $(PIP_INSTALL) -c $(CONSTRAINTS) $(BUILD_TOOLS)
	$(UV_INSTALL) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python $(PIP_INSTALL) -c $(CONSTRAINTS) $(BUILD_TOOLS)
	$(UV_INSTALL) -e ".[dev]"
	@touch $@ $(VENV)/.installed

# Two workers, one per core of the reference machine. Tests are shared out one by one and
# an idle worker takes over another's queue (worksteal): 584 s against loadfile's ~640 s,
# because a few long files otherwise keep one worker busy alone at the end.
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist worksteal)

demo: $(VENV)/.installed
	$(BIN)/cmooe-risk --workspace $(WORKSPACE) demo $(DEMO_ARGS)

# CI and make test: Hypothesis derandomised (tests/_hypothesis.py), so a failure reproduces.
test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

# The tests not marked slow: no trained LA, Spark, PostgreSQL, browser or many full
# ingests (tests/conftest.py, SLOW_FIXTURES). For the edit-test loop; CI runs make test.
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_PARALLEL)

# The newest versions pyproject.toml allows, resolved afresh every time: finds a
# dependency release that breaks us on purpose, before CI or a newcomer does.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python $(PIP_INSTALL) --upgrade $(BUILD_TOOLS)
	$(LATEST_VENV)/bin/python $(PIP_INSTALL) --upgrade --upgrade-strategy eager -e ".[dev]"
	$(LATEST_VENV)/bin/python -m pip list --format=freeze > $(LATEST_VENV)/versions.txt
	@echo "test-latest: versions in $(LATEST_VENV)/versions.txt"
	$(LATEST_VENV)/bin/ruff check src tests benchmarks
	$(LATEST_VENV)/bin/lint-imports --no-cache
	HYPOTHESIS_PROFILE=ci $(LATEST_VENV)/bin/python -m pytest -q $(PYTEST_PARALLEL)
	@echo "test-latest: passed; 'make lock' would move constraints.txt to these versions"

# Re-resolve constraints.txt: every package (all extras, build tools) at the newest
# version pyproject.toml allows, for Linux, Windows and macOS on Apple silicon.
lock:
	test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) \
		&& $(LOCK_VENV)/bin/python $(PIP_INSTALL) "uv>=0.9,<0.14"; }
	printf '%s\n' $(BUILD_TOOLS) > $(LOCK_VENV)/build-tools.in
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml $(LOCK_VENV)/build-tools.in --all-extras --universal \
		--python-version 3.11 --no-header --quiet -o $(CONSTRAINTS).new
	{ printf '%s\n' \
		"# Exact versions for make demo, make test and CI: installed with pip's -c, so" \
		"# pyproject.toml keeps its ranges for library users. Regenerate with 'make lock'" \
		"# (see the README, 'Dependencies'); never edit by hand." ; \
		cat $(CONSTRAINTS).new; } > $(CONSTRAINTS)
	rm -f $(CONSTRAINTS).new
	@echo "lock: constraints.txt updated; git diff constraints.txt, then make test (it reinstalls .venv)"

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
