# The README's two commands are `make demo` and `make test`; each bootstraps from nothing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PostgreSQL server for the second test pass (each run creates and drops its own database there).
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test setup browser lint typecheck test-sqlite test-postgres migration docs clean

## demo: set everything up and run the demo monitoring cycle on the sandbox storefronts
demo: setup
	@# Prefect's database migrations (~7 s), once per machine: every demo starts from this template.
	$(BIN)/python -m flows._env --template
	$(BIN)/pricewarden demo

## test: set everything up; lint, type-check, and run the suite on SQLite and on PostgreSQL
test: setup lint typecheck test-sqlite test-postgres
	@echo "make test: all checks passed"

setup: $(VENV)/.installed browser

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# Chromium: PRICEWARDEN_BROWSER_PATH, else the system's headless shell, else Debian's
# chromium-headless-shell package (as root or with sudo; it renders for much less CPU than the full
# browser), else the system's full Chromium, else Playwright's own download (`playwright install
# chromium`, which brings its headless shell too), the usual way off Debian.
SHELL_BROWSER := /usr/lib/chromium/chromium-headless-shell
browser: $(VENV)/.installed
	@if [ -n "$${PRICEWARDEN_BROWSER_PATH:-}" ] && [ -x "$${PRICEWARDEN_BROWSER_PATH}" ]; then \
	  echo "browser: $${PRICEWARDEN_BROWSER_PATH}"; \
	elif [ -x $(SHELL_BROWSER) ] || command -v chromium-headless-shell >/dev/null 2>&1; then \
	  echo "browser: Chromium's headless shell"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	    && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; then \
	  echo "browser: installed Debian chromium-headless-shell"; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null \
	    && sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; then \
	  echo "browser: installed Debian chromium-headless-shell (sudo)"; \
	elif [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then \
	  echo "browser: $$(command -v chromium || echo /usr/bin/chromium)"; \
	else \
	  echo "browser: installing Playwright's Chromium"; $(BIN)/playwright install chromium; \
	fi
	@# Screenshots of Chinese storefronts need a CJK font, or every character is an empty box.
	@if command -v fc-list >/dev/null 2>&1 && [ -z "$$(fc-list :lang=zh 2>/dev/null)" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; then \
	    echo "fonts: installed a CJK font (fonts-wqy-zenhei)"; \
	  else echo "fonts: no CJK font; install one (e.g. fonts-wqy-zenhei) for readable Chinese screenshots" >&2; fi; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy policies store pricewarden crawlers detection alerts flows demo web

# Three pytest-xdist workers on two cores (many tests wait on servers, browsers and subprocesses); the
# tests that start Prefect's server run in two groups, each one after another on one worker, and modules
# with a costly module-scoped fixture run whole on one worker (tests/conftest.py, docs/development.md).
# The PostgreSQL pass runs every test that uses the database, not a chosen few; each of them starts
# from the tables the last test wrote to truncated (TRUNCATE of them all took 0.1-0.8 s a test; DELETE would
# let later rows reuse the freed space, so that unordered scans lose the order rows were written in).
# Bytecode is cached (__pycache__, ignored by git) even where PYTHONDONTWRITEBYTECODE is set: without it
# every worker rewrote the asserts of ~360 modules (the tests, and schemathesis, hypothesis and anyio as
# pytest plugins) to collect (19.5 s of CPU a worker, 10.7 s cached), and every crawl or CLI process the
# tests start compiled the project again.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -p no:cacheprovider -n 3 --dist loadgroup --durations=15

test-sqlite: setup
	$(PYTEST)

test-postgres: setup
	@if [ -n "$${SKIP_POSTGRES:-}" ]; then echo "test-postgres: skipped (SKIP_POSTGRES set)"; exit 0; fi; \
	if ! $(BIN)/python -c "import sqlalchemy as s; s.create_engine('$(PG_URL)').connect().close()" 2>/dev/null; then \
	  echo "test-postgres: no PostgreSQL at $(PG_URL); start one, set PG_URL=..., or SKIP_POSTGRES=1" >&2; exit 1; fi; \
	rc=0; PRICEWARDEN_TEST_POSTGRES='$(PG_URL)' PRICEWARDEN_TEST_ONLY_DB=1 $(PYTEST) || rc=$$?; \
	  if [ $$rc = 5 ]; then echo "test-postgres: no database tests collected"; exit 1; fi; exit $$rc

## migration: regenerate the baseline migration after changing store/models.py
migration: $(VENV)/.installed
	$(BIN)/python -m store.migrations.make_baseline

## docs: regenerate the reference pages (docs/reference) and the figures page from the code and the
## benchmarks' outputs, then build the site into site/ with MkDocs (--strict: a warning fails)
docs: $(VENV)/.installed
	$(BIN)/python -m pricewarden.docs --write
	$(BIN)/python -m bench.figures --write
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "docs: site/index.html"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
