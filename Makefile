# Metacoach: `make run` to start, `make test` to check. Everything lives in .venv and var/.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup setup-dev requirements audit migrate static run demo demo-data test pytest lint browser-tools bench-tools bench bench-pages bench-load bench-scale bench-quick vendor-plotly clean

help:
	@echo "make run      set up and start the web app (http://127.0.0.1:$(PORT)) and a Celery worker"
	@echo "make demo     the same, with a demo learner and educator"
	@echo "make test     set up and run linters and the whole test suite"
	@echo "make bench    measure the engine, the product pages and the load, and print the figures"

# A new venv's pip is the one Python shipped (23.2 with 3.11.7), which in hash-checking mode
# refuses a dependency asked for with extras once the index holds a newer release than the pin
# (pip-audit's CacheControl[filecache]); the pinned pip, checked by its hashes, goes in first.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Metacoach needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	awk '/^pip==/ {p = 1} p {print} p && !/\\$$/ {exit}' requirements.txt > $(VENV)/pip.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(VENV)/pip.txt

# Every package, pip itself included, is pinned with its hashes: pip refuses a file that differs.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

# Pins requirements*.in into requirements*.txt with hashes; a pin already there is kept (to move
# one, change it in the .in file or delete its lines from the .txt first).
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile --quiet --generate-hashes \
  --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
requirements: setup-dev
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in

# Known vulnerabilities of the pinned packages (pip-audit); needs a vulnerability service that our
# machines cannot reach, so it fails there with a message, and make test and CI leave it out.
audit: setup-dev
	bash tools/audit.sh

migrate: setup
	$(BIN)/python manage.py migrate --noinput

# Hashed, brotli- and gzip-compressed copies under var/staticfiles, served by whitenoise.
static: setup
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

demo-data: migrate
	$(BIN)/python manage.py demo

run: migrate static
ifdef DEMO
	$(BIN)/python manage.py demo
endif
	@echo "Metacoach: http://127.0.0.1:$(PORT)/  (Ctrl-C stops the web app, the worker and beat)"
	PORT=$(PORT) METACOACH_VAR_DIR=$${METACOACH_VAR_DIR:-$(CURDIR)/var} $(BIN)/supervisord -c supervisord.conf

demo:
	$(MAKE) run DEMO=1

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint pytest

# Browser tests drive Debian's Chromium through Playwright and inject axe-core from npm; a CJK
# font lets screenshots of the Chinese pages show characters rather than boxes.
browser-tools: node_modules/.installed
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium and a CJK font for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) \
	      >/dev/null || echo "Could not install chromium: browser tests will be skipped"; \
	  else \
	    echo "chromium is missing and cannot be installed here (needs root and apt-get): browser tests will be skipped"; \
	  fi; \
	fi

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is missing: accessibility checks in the browser tests will be skipped"; fi

# Two processes (pytest-xdist): most tests wait on a browser, a worker or a database, so two keep
# both cores busy. PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
pytest: setup-dev browser-tools
	$(BIN)/python -m pytest --numprocesses $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The product pages part needs Chromium, Lighthouse (npm) and locust (its own environment).
bench-tools: setup-dev browser-tools
	bash bench/setup_locust.sh

bench: bench-tools
	bash bench/setup_pybkt.sh
	$(BIN)/python -m bench.run

# Only the product pages: page weight, server time under load, Lighthouse (a few minutes).
bench-pages: bench-tools
	$(BIN)/python -m bench.pages

# Only the load: gunicorn, PostgreSQL and Redis on loopback, 50 simulated learners for 5 minutes.
# It empties Redis database 13 before and after (bench/load.py).
bench-load: setup-dev
	bash bench/setup_locust.sh
	$(BIN)/python -m bench.load

# Only the scale part, left out of make bench for its length: a scratch PostgreSQL database filled
# with 100,000 simulated learners x 50 sessions, the retrain, a 2,000-session dashboard and the
# refreshes per second with 1 and 2 worker processes. It empties Redis database 12 before and
# after (bench/scale.py). SCALE_ARGS="--learners 2000" for a quick check.
bench-scale: setup-dev
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

bench-quick: setup-dev
	$(BIN)/python -m bench.run --quick

# plotly.js's basic bundle (bar, scatter, pie), vendored under static/ so the app needs no CDN and
# no npm at run time; its version follows the plotly.js that the pinned plotly (Python) was built against.
PLOTLY_JS := 4.1.1
vendor-plotly:
	cd $$(mktemp -d) && npm pack --silent plotly.js-basic-dist-min@$(PLOTLY_JS) >/dev/null && tar xzf *.tgz \
	  && cp package/plotly-basic.min.js package/LICENSE $(CURDIR)/static/vendor/plotly/
	node tools/plotly-css.js static/vendor/plotly/plotly-basic.min.js > static/vendor/plotly/plotly.css

clean:
	rm -rf var/test-* var/bench
