# Somfy Pro for Home Assistant: `make demo` starts everything, `make test` checks everything.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PY313 ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13 || true)
VENV := .venv
BIN := $(VENV)/bin
REQ_HASH := $(shell cat requirements/*.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.req-$(REQ_HASH)
# Tests that run inside Home Assistant's pytest plugin, and those that must not.
HA_TESTS := $(wildcard tests/integration tests/simulator/ha)
HA_E2E := $(wildcard tests/e2e/ha)
# The longest tests (browsers) first, so that the workers finish together.
PLAIN_TESTS := $(wildcard tests/e2e tests/companion tests/simulator)
PYTEST_PLAIN := -p no:homeassistant --ignore=tests/simulator/ha --ignore=tests/e2e/ha
PYTEST_ARGS ?=
# Tests run on every core (pytest-xdist); each worker starts its own PostgreSQL and browser.
# The portal's tests wait on sockets and browsers, so they get a worker more than the cores.
CORES := $(shell nproc 2>/dev/null || echo 2)
XDIST ?= -n $(CORES) --dist worksteal
XDIST_PLAIN ?= -n $(shell echo $$(( $(CORES) + 1 ))) --dist worksteal

.PHONY: help venv py314 py314-browser leaflet lint test test-oldest test-current demo walkthrough bench clean

help:
	@echo "make demo   start the box simulator, the installer portal and Home Assistant"
	@echo "make test   ruff, mypy and every test on HA 2025.4 (Python 3.13) and current HA (Python 3.14)"
	@echo "make walkthrough  with make demo running: replay the README walkthrough, new screenshots"
	@echo "make bench  run every benchmark in benchmarks/ (prints figures)"

$(STAMP): requirements/*.txt
	@if [ -z "$(PY313)" ]; then echo "Python 3.13 not found: install it (e.g. 'pyenv install 3.13.0') or run 'make PY313=/path/to/python3.13'." >&2; exit 1; fi
	@echo "Installing the HA 2025.4 test environment in $(VENV) (about 3 minutes, once)"
	$(PY313) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/ha-oldest.txt
	rm -f $(VENV)/.req-*
	touch $@

venv: $(STAMP)

DEMO_STAMP := $(VENV)/.demo-$(REQ_HASH)
$(DEMO_STAMP): $(STAMP)
	$(BIN)/pip install -q -r requirements/demo.txt
	rm -f $(VENV)/.demo-*
	touch $@

# The portal draws maps with Debian's Leaflet, served by itself (no CDN): apt when missing.
LEAFLET_JS := /usr/share/javascript/leaflet/leaflet.js
leaflet:
	@[ -f $(LEAFLET_JS) ] || { echo "Installing from apt: libjs-leaflet"; \
	  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends libjs-leaflet >/dev/null; }

py314:
	@bash scripts/py314.sh setup requirements/ha-current.txt

# Chromium and Playwright in the Python 3.14 root, for tests/e2e/ha on current HA.
py314-browser: py314
	@bash scripts/py314.sh browser

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_import_cycles.py

test-oldest: venv leaflet
	$(BIN)/python -m pytest $(HA_TESTS) $(HA_E2E) $(XDIST) $(PYTEST_ARGS)
	$(BIN)/python -m pytest $(PYTEST_PLAIN) $(PLAIN_TESTS) $(XDIST_PLAIN) $(PYTEST_ARGS)

test-current: py314 py314-browser
	bash scripts/py314.sh run python -m pytest $(HA_TESTS) $(HA_E2E) $(XDIST) $(PYTEST_ARGS)
	bash scripts/py314.sh run python -m pytest $(PYTEST_PLAIN) tests/simulator $(PYTEST_ARGS)

test: lint test-oldest test-current

demo: $(DEMO_STAMP) leaflet
	$(BIN)/python scripts/demo.py

# Plays both roles of the README walkthrough on a running `make demo` (headless Chromium),
# then the customer's services story (it needs only the portal).
walkthrough: venv
	$(BIN)/python scripts/walkthrough.py
	$(BIN)/python scripts/walkthrough_billing.py

BENCHMARKS := $(filter-out __init__,$(basename $(notdir $(wildcard benchmarks/*.py))))
bench: venv
	@for b in $(BENCHMARKS); do echo "== $$b"; $(BIN)/python -m benchmarks.$$b || exit 1; done

clean:
	rm -rf $(VENV) .venv314 .mypy_cache .ruff_cache .pytest_cache
