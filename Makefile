# Set-up and main jobs. `make run` and `make test` work from a fresh clone on a bare machine:
# they create the virtual environment, install the project and, as root, the Debian packages.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed


.PHONY: run test test-quick build bench bench-sandbox bench-quick system-deps clean

# PYTHONWARNINGS: setuptools' notes on editable installs (a folder named like the package) are for
# projects that are not laid out as this one is; they would only clutter the output.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[test,pandas]'
	touch $(STAMP)

# Browser libraries the pages serve themselves (YASGUI, lunr.js), from package-lock.json. Without npm
# the pages fall back to a plain SPARQL form and the studies table's own search.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else \
	  echo "npm is missing: the SPARQL editor and the site search are left out (apt-get install npm)"; \
	fi

# Apache httpd, for the test of the site's .htaccess under a real server (the test runs its own, on a
# loopback port). The package's service would listen on port 80: it is kept from starting while the
# package installs (Debian's policy-rc.d), then stopped and disabled in case it started all the same.
APACHE_DEP = @[ -x /usr/sbin/apache2 ] || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    policy=/usr/sbin/policy-rc.d; made=; \
	    if [ ! -e $$policy ]; then printf '\#!/bin/sh\nexit 101\n' >$$policy && chmod 755 $$policy && made=1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2 >/dev/null; status=$$?; \
	    if [ -n "$$made" ]; then rm -f $$policy; fi; \
	    service apache2 stop >/dev/null 2>&1; update-rc.d apache2 disable >/dev/null 2>&1; \
	    systemctl disable apache2 >/dev/null 2>&1; \
	    exit $$status; \
	  else \
	    echo "apache2 is missing: run 'sudo apt-get install apache2' and 'sudo systemctl disable --now apache2' (the .htaccess test under Apache is skipped without it)"; \
	  fi; }

# Debian packages the tests use: headless Chromium for the browser tests; Java and Jena ARQ, a third
# SPARQL engine every stored query must also run on (tests/test_jena.py).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install chromium chromium-driver' (the browser tests are skipped without it)"; \
	  fi; \
	fi
	@if ! command -v java >/dev/null 2>&1 || ! dpkg-query -W -f '$${Status}' libapache-jena-java 2>/dev/null | grep -q ' installed$$'; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless libapache-jena-java >/dev/null; \
	  else \
	    echo "Java or Jena is missing: run 'sudo apt-get install default-jre-headless libapache-jena-java' (the Jena tests are skipped without them)"; \
	  fi; \
	fi
	$(APACHE_DEP)

build: $(STAMP) $(NODE_STAMP)
	$(BIN)/licn build

run: build
	$(BIN)/licn query table1-matrix
	$(BIN)/licn query reported-vs-derived
	$(BIN)/licn query coverage

# Every test, on every core (pytest-xdist; each worker builds the shared fixtures once, and the modules
# of tests/conftest.py SET_UP_ONCE run whole on one worker).
test: $(STAMP) $(NODE_STAMP) system-deps
	$(BIN)/pytest -q -n auto --dist loadgroup

# The inner loop: every test file, without the tests marked slow (the parameter sweep of the queries that
# take parameters, the bad-input corpus and the damaged copies beyond their first cases, the builds and
# servers run again and again).
test-quick: $(STAMP) $(NODE_STAMP)
	$(BIN)/pytest -q -n auto --dist loadgroup -m "not slow and not virtuoso"

clean:
	rm -rf dist .dist.versions .dist.lock $(VENV) tests/artifacts node_modules

# Benchmarks (bench/): `make bench` measures the targets side by side and writes bench/RESULTS.md
# (`make bench BENCH=--large` adds the data build of 10^5 studies)
# (`python -m bench` is the older per-stage plan, into bench/work/); `make bench-quick`
# is the short run (under a minute) and prints the key ratios. They need the `bench` extra
# (rdflib-endpoint) and wrk, which is installed from Debian when missing and running as root.
BENCH_STAMP := $(VENV)/.bench-installed
WRK_DEP = @command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "wrk is missing: run 'sudo apt-get install wrk' (the server benchmark is skipped without it)"; \
	  fi; }

$(BENCH_STAMP): $(STAMP)
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[test,pandas,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(WRK_DEP)
	$(BIN)/python -m bench.targets $(BENCH)

# The sandbox's targets (latency under floods beside oxigraph serve-read-only, memory through large
# queries) on the real data: bench/SANDBOX.md.
bench-sandbox: $(BENCH_STAMP) build
	$(BIN)/python -m bench.sandbox

bench-quick: $(BENCH_STAMP)
	$(WRK_DEP)
	$(BIN)/python -m bench --quick
