# The README's two commands: `make run` serves the line, `make test` runs the tests.
# Both build the virtual environment and install the project from pyproject.toml first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install debian-tools run test validate bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

test: install debian-tools
	$(BIN)/python -m pytest

# What the tests run for real, from Debian's packages: the production recipe's nginx (deploy/)
# with a throw-away certificate from openssl, a PostgreSQL server for the statistics tests
# (tests/postgres.py), and Chromium for the console's browser tests (tests/console_browser.py;
# Playwright drives it, and never downloads a browser of its own). Installed here when missing,
# as root (CI); otherwise the tests that need them fail, saying what to install.
debian-tools:
	@missing=; for tool in nginx openssl; do \
	  command -v $$tool >/dev/null || [ -x /usr/sbin/$$tool ] || missing="$$missing $$tool"; \
	done; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing from Debian for the tests:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "*** the tests need$$missing from Debian: sudo apt-get install -y$$missing (or make test as root)"; fi; \
	fi

validate: install
	$(BIN)/ivr validate

# With TWILIO_AUTH_TOKEN set, every request must be signed by Twilio. Without it, the line runs in
# the local development mode, which checks no signatures and says so at start and on every request.
run: install
	@$(BIN)/ivr validate
	@if [ -n "$$TWILIO_AUTH_TOKEN" ]; then \
	  echo "Serving the line on http://$(HOST):$(PORT) (Twilio signatures checked)."; \
	  IVR_RELOAD_SECONDS=$${IVR_RELOAD_SECONDS:-5} exec $(BIN)/gunicorn --bind $(HOST):$(PORT) --access-logfile - app:app; \
	else \
	  echo "*** DEVELOPMENT MODE on http://$(HOST):$(PORT): TWILIO_AUTH_TOKEN is not set, so no"; \
	  echo "*** signature is checked. Set TWILIO_AUTH_TOKEN before giving Twilio this address."; \
	  IVR_INSECURE_DEV_MODE=1 IVR_RELOAD_SECONDS=$${IVR_RELOAD_SECONDS:-5} exec $(BIN)/gunicorn --bind $(HOST):$(PORT) --access-logfile - app:app; \
	fi

# Benchmarks and fault checks (minutes; never part of `make test`). Needs wrk and nginx, from Debian.
bench: install debian-tools
	@command -v wrk >/dev/null || apt-get install -y wrk || { echo "install wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python bench/run.py
