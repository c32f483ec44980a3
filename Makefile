# The two commands of the README. Each does its own set-up on a fresh machine.
#   make run   - the platform on its embedded defaults (SQLite warehouse, local sandbox) on :3000
#   make test  - the whole test suite, against SQLite and PostgreSQL
#   make bench - the full benchmark run (long; results in BENCHMARKS.md)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_VERSION := $(shell ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)

.PHONY: run test bench postgres browser proxy clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the dependencies change.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	$(PY) -m cinegraph_assets run

# PostgreSQL on 127.0.0.1:5432: start the machine's cluster if it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "starting PostgreSQL $(PG_VERSION)"; \
	  pg_ctlcluster --skip-systemctl-redirect $(PG_VERSION) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }
	@pg_isready -h 127.0.0.1 -p 5432

# Debian's chromium for the browser tests (Playwright's own browser download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "could not install chromium: browser tests will fail"; }

# Debian's nginx for the reverse-proxy test (deploy/nginx): the test starts its own nginx process on
# free ports; Debian's service is not needed (in containers policy-rc.d keeps it from starting).
proxy:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "installing Debian's nginx for the reverse-proxy test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     -o DPkg::Lock::Timeout=300 nginx >/dev/null) \
	  || echo "could not install nginx: the reverse-proxy test will fail"; }

test: $(STAMP) postgres browser proxy
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP) postgres
	$(PY) -m benchmarks --json benchmarks/results/latest.json

clean:
	rm -rf $(VENV) .dagster_home .pytest_cache
