# ITB trial app. `make help` lists the targets. Two commands matter on a fresh clone:
#   make run    set everything up (venv, Python and npm packages, migrations, demo data) and serve on :5000
#   make test   set everything up (including Debian's chromium and WebKitGTK) and run every test, browser tests included
SHELL := /bin/bash
# The interpreter of the virtual environment: the distribution's Python where it is 3.11 or later and can make
# one (Debian builds it with profile-guided and link-time optimisation: about 10 % less CPU for a sync push than
# a plain build from source, such as pyenv's; bench/README.md), else python3 from the PATH. PYTHON=... overrides.
SYSTEM_PYTHON := $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; print(sys.executable if sys.version_info >= (3, 11) else "")' 2>/dev/null)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app server
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
CHROMIUM_PATH ?= /usr/bin/chromium
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 3
DEV_ENV := APP_ENV=development
PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.DEFAULT_GOAL := help
.PHONY: help install assets translations translations-extract chromium webkit pdf-deps run db-upgrade db-revision demo test test-pg e2e unit coverage js-test chaos lint fmt bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) assets translations pdf-deps ## Virtual environment with Python packages, the npm packages, built assets, compiled catalogues, the PDF libraries

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Our JavaScript and CSS, bundled, minified and named by content (esbuild, build-assets.mjs) into
# server/static/dist/ (not in git), with manifest.json for the server; rebuilt whenever a source changes.
ASSET_SOURCES := build-assets.mjs $(wildcard server/static/js/*.js server/static/css/*.css)
server/static/dist/manifest.json: $(ASSET_SOURCES) node_modules/.package-lock.json
	node build-assets.mjs

assets: server/static/dist/manifest.json ## Build our JavaScript and CSS into server/static/dist (hashed names, .br/.gz)

# The parents' page's languages: each server/translations/<lang>/LC_MESSAGES/messages.po is compiled to its .mo
# (not in git), whenever the .po is newer.
CATALOGUES := $(wildcard server/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

%/LC_MESSAGES/messages.mo: %/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile -i $< -o $@ -l $(notdir $*)

translations: $(COMPILED) ## Compile the parents' page's message catalogues (server/translations/*/…/messages.po)

translations-extract: $(STAMP) ## Refresh messages.pot from the parents' page and code, and merge it into each catalogue
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --omit-header -o server/translations/messages.pot .
	$(VENV)/bin/pybabel update -i server/translations/messages.pot -d server/translations --no-location --width=120

chromium: ## Install Debian's chromium for the browser tests when it is missing
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Browser tests need Chromium at $(CHROMIUM_PATH). Install it (Debian: sudo apt-get install chromium)"; \
	    echo "or point CHROMIUM_PATH at a Chromium or Chrome binary."; exit 1; \
	  fi; \
	fi

# The trial summary's PDF (WeasyPrint): Debian's pango and harfbuzz-subset libraries and the DejaVu fonts the print
# styles name (no font is fetched at run time); poppler-utils (pdftotext, pdftoppm) for the tests that read PDFs.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
pdf-deps: ## Install what the server-side PDF and its tests need (Debian packages) when it is missing
	@if command -v dpkg-query >/dev/null; then \
	  missing=$$(for p in $(PDF_DEBS); do dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "Installing" $$missing"…"; \
	      apt-get -o DPkg::Lock::Timeout=300 update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get -o DPkg::Lock::Timeout=300 install -y -qq $$missing >/dev/null; \
	    else \
	      echo "The trial summary's PDF and its tests need: sudo apt-get install" $$missing; exit 1; \
	    fi; \
	  fi; \
	elif ! command -v pdftotext >/dev/null; then \
	  echo "Install pango, harfbuzz (with its subset library), the DejaVu fonts and poppler's pdftotext and pdftoppm."; exit 1; \
	fi

# The WebKit lane (e2e/webkit): WebKitGTK's WebDriver, Xvfb, and WebKitGTK for Debian's python3, which runs
# e2e/webkit/phone_browser.py.
WEBKIT_DEBS := webkit2gtk-driver xvfb gir1.2-webkit2-4.1 python3-gi
webkit: ## Install what the WebKit browser tests need (Debian packages) when it is missing
	@if ! command -v WebKitWebDriver >/dev/null || ! command -v Xvfb >/dev/null || \
	    ! /usr/bin/python3 -c "import gi; gi.require_version('WebKit2', '4.1')" 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing WebKitGTK's WebDriver, Xvfb and WebKitGTK for python3…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(WEBKIT_DEBS) >/dev/null; \
	  else \
	    echo "The WebKit browser tests need: sudo apt-get install $(WEBKIT_DEBS)"; exit 1; \
	  fi; \
	fi

db-upgrade: install ## Apply database migrations (DATABASE_URL, default SQLite in instance/)
	$(DEV_ENV) $(FLASK) db upgrade

db-revision: install ## New migration from the models: make db-revision m="what changed"
	$(DEV_ENV) $(FLASK) db migrate -m "$(m)"

demo: db-upgrade ## Load demo staff (pt, nurse, surgeon, admin / demo-pass) and four children
	$(DEV_ENV) $(FLASK) demo-data

run: demo ## Set up everything and serve the app with gunicorn (as in production) at http://127.0.0.1:5000
	@echo "Serving on http://$(HOST):$(PORT)  (sign in as pt, nurse, surgeon or admin with demo-pass)"
	$(DEV_ENV) $(VENV)/bin/gunicorn --bind=$(HOST):$(PORT) --workers=$(WORKERS) --threads=4 \
		--worker-class=gthread 'server:create_app()'

test: install chromium webkit lint js-test ## Set up everything, lint, and run every test (JS, unit and browser) on SQLite, or TEST_DATABASE_URL
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) -m pytest

js-test: install ## Unit tests of the outbox JavaScript (Node's test runner, fake-indexeddb)
	node --test --test-reporter=spec tests/js/

chaos: install chromium ## Randomized fault run in the browser: make chaos N=200 SEED=7 (seed printed; replayable)
	CHROMIUM_PATH=$(CHROMIUM_PATH) CHAOS_STEPS=$(or $(N),200) CHAOS_SEED=$(SEED) $(PY) -m pytest e2e/test_chaos.py -q -s

test-pg: ## The same tests against the local PostgreSQL server (a fresh database per run)
	TEST_DATABASE_URL=$(PG_URL) $(MAKE) test

unit: install js-test ## Server, sync and JavaScript unit tests (no browser)
	$(PY) -m pytest tests

coverage: install ## Server and sync unit tests with line and branch coverage (pytest-cov): a report of what they miss
	$(PY) -m pytest tests --cov=server --cov=sync --cov-branch --cov-report=term-missing:skip-covered

e2e: install chromium webkit ## Browser tests only (Chromium, then WebKit: e2e/webkit)
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) -m pytest e2e

lint: install ## ruff, mypy (strict on sync/, checked on server/, unused ignores refused), and ESLint on our JavaScript
	node_modules/.bin/eslint server/static/js tests/js build-assets.mjs
	$(VENV)/bin/ruff check server sync tests e2e bench
	$(VENV)/bin/mypy --strict sync
	$(VENV)/bin/mypy server

fmt: install ## Format the code
	$(VENV)/bin/ruff format server sync tests e2e bench
	$(VENV)/bin/ruff check --fix server sync tests e2e bench

# SCALE: bench_scale.py's size (1 = 10,000 finished trials; 0.01 for a quick run). Figures are JSON lines on
# stdout (name, value, unit, budget, machine); tables and progress go to stderr: `make bench 2>/dev/null`.
SCALE ?= 1
bench: install ## Run the benchmarks in bench/: one JSON line per figure on stdout (make bench SCALE=0.01: quick)
	@for b in bench/bench_*.py; do echo "== $$b" >&2; \
	  if [ "$$b" = bench/bench_scale.py ]; then $(PY) $$b --scale $(SCALE) || exit 1; else $(PY) $$b || exit 1; fi; \
	done

clean: ## Remove the virtual environment, npm packages and caches (not the database)
	rm -rf $(VENV) node_modules server/static/dist .pytest_cache .mypy_cache .ruff_cache
