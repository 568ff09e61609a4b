# The README's two commands: `make run` serves the line, `make test` runs the tests.
# Both build the virtual environment and install the project from pyproject.toml first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install run test validate bench postgresql

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

test: install postgresql
	$(BIN)/python -m pytest

# The statistics tests start a real PostgreSQL server (tests/postgres.py) from Debian's package.
# Install it when its server binaries are missing: as root (CI), with apt-get; otherwise say how.
postgresql:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's postgresql package for the statistics tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "*** The statistics tests need PostgreSQL's server: run 'sudo apt-get install -y postgresql'"; \
	    echo "*** (or 'make test' as root). Those tests will fail until it is installed."; \
	  fi; \
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

# Benchmarks and fault checks (minutes; never part of `make test`). Needs wrk, from Debian.
bench: install
	@command -v wrk >/dev/null || apt-get install -y wrk || { echo "install wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python bench/run.py
