# Two commands from a fresh clone: `make run` and `make test` (README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

# `make run` is for trying the node locally: plain http on localhost, SQLite in the working directory.
export MADEOPEN_SCHEME ?= http
# The domain follows the port, so `MADEOPEN_PORT=8001 make run` is a second node with its own ids (README).
export MADEOPEN_PORT ?= 8000
export MADEOPEN_DOMAIN ?= 127.0.0.1:$(MADEOPEN_PORT)

.PHONY: run test lint bench clean browser-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/madeopen run

lint: $(STAMP_TEST)
	$(VENV)/bin/lint-imports

# Browser tests drive Debian's Chromium (never a downloaded browser build) and check pages with axe-core.
AXE := .cache/axe/node_modules/axe-core/axe.min.js

browser-deps:
	command -v chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	test -f $(AXE) || npm install --prefix .cache/axe axe-core@4

# The suite runs on TEST_WORKERS pytest-xdist worker processes (measured on 2 cores: README.md, Tests);
# `worksteal` hands out tests one by one and moves queued ones to an idle worker, so the slow multi-node
# and browser tests spread out instead of piling up on one worker. PYTEST_ARGS come last and win:
# `make test PYTEST_ARGS="-n0 tests/web"` runs one directory serially.
TEST_WORKERS ?= 4

test: lint browser-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

bench: $(STAMP_TEST)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
