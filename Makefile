# The verbs every contributor and every haven needs. `make demo` and `make test` work on a fresh
# Debian machine with Python 3.11: each installs whatever is missing first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: install install-system install-test-system demo test check fix lint test-sqlite test-postgres test-e2e bench-sdc clean

install: install-system $(BIN)/.installed node_modules/.installed

# Debian packages the portal needs at run time, installed only when their command is missing.
install-system:
	@missing=""; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	/sbin/ldconfig -p | grep -q 'libseccomp\.so\.2' || missing="$$missing libseccomp2"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	command -v Rscript >/dev/null || missing="$$missing r-base-core"; \
	[ -d /usr/lib/R/site-library/data.table ] || missing="$$missing r-cran-data.table"; \
	[ -d /usr/lib/R/library/survival ] || [ -d /usr/lib/R/site-library/survival ] || missing="$$missing r-cran-survival"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# What the test suite needs beyond that: a real browser, a real PostgreSQL 15 server, a real
# Slurm, and R's haven package, which writes the SAS .sas7bdat files the airlock tests read
# (without its recommends: those are hundreds of R packages the tests never load).
install-test-system: install-system
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	command -v slurmctld >/dev/null || missing="$$missing slurmctld slurmd slurm-client"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@if [ ! -d /usr/lib/R/site-library/haven ]; then \
		echo "Installing Debian packages: r-cran-haven"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-cran-haven; \
	fi

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Set up this machine, create the demo instance (once) and serve it on http://127.0.0.1:8000.
demo: install
	$(BIN)/havenkit migrate --no-input -v 0
	$(BIN)/havenkit demo setup
	$(BIN)/havenkit serve --bind 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: lint

fix: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: install install-test-system
	$(BIN)/pytest -n 2 --dist loadfile -m "not e2e"

test-postgres: install install-test-system
	scripts/with-postgres $(BIN)/pytest -n 2 --dist loadfile -m "not e2e"

test-e2e: install install-test-system
	$(BIN)/pytest -m e2e

# Lint, then the whole suite on SQLite, again on a throw-away PostgreSQL, then the browser.
test: lint test-sqlite test-postgres test-e2e

bench-sdc: install
	$(BIN)/python -m bench.sdc

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
