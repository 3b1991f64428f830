# SalesFlow: `make run` starts the whole stack, `make test` runs the suite.
# Only Python 3.11+ is needed: the virtualenv, PostgreSQL and Redis come from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: run test bench install stop-services clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/run.py

test: $(STAMP)
	$(BIN)/python scripts/stack.py exec -- $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python scripts/stack.py exec -- $(BIN)/python bench/run.py $(BENCH_ARGS)

stop-services:
	$(BIN)/python scripts/stack.py stop

clean: stop-services
	rm -rf $(VENV) .data
