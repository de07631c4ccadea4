# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test install install-dev browser check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEVSTAMP)

## make demo: install, migrate the SQLite database, start fake LINE + bot + simulator
demo: install
	$(BIN)/citybot db upgrade
	$(BIN)/citybot content check
	$(BIN)/citybot demo

## make test: install what the tests need, then run them (PYTEST_ARGS to narrow down)
test: install-dev browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

check: install
	$(BIN)/citybot content check

bench: install-dev
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/garbage.py

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache
