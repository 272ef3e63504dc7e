# The README's commands. Each works on a fresh clone: it creates .venv and installs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

export SHIFTWELL_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: install demo test lint format conformance clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Shiftwell needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

# Stamps: re-install only when the package metadata changed.
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,postgres,dev]'
	@touch $@

install: $(VENV)/.installed

# The demo's LMS registration and printed links use the address it is served at.
demo: export SHIFTWELL_ENV = demo
demo: export SHIFTWELL_BASE_URL = http://$(HOST):$(PORT)
demo: install
	$(BIN)/shiftwell db upgrade
	$(BIN)/shiftwell demo load
	@# Made-up learners and their activity on the demo courses (no made-up courses: the
	@# clinician's catalog shows only real ones), once, for the reports to count.
	$(BIN)/shiftwell demo generate --learners 120 --courses 0 --attempts 900 --units 4 --once
	@echo
	@echo "Shiftwell demo: http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo
	$(BIN)/shiftwell run --host $(HOST) --port $(PORT) --no-reload

test: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check lms_core courses lti xapi certificates

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format lms_core courses lti xapi certificates

# The ADL LRS conformance suite (xAPI 1.0.3) against a freshly started demo server.
# Install the suite once (see docs/conformance.md), outside this repository.
CONFORMANCE_SUITE ?= $(CURDIR)/../lrs-conformance-test-suite
CONFORMANCE_PORT ?= 5103
conformance: install
	bash scripts/xapi-conformance.sh "$(CONFORMANCE_SUITE)" "$(CONFORMANCE_PORT)"

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
