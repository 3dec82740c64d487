# adminui — the two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYVER := $(shell cat .python-version)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
PYTEST_WORKERS ?= auto

help:
	@echo "make run     start the console on http://127.0.0.1:8000 with a demo fleet of simulators"
	@echo "make test    run the whole test suite (installs what it needs)"
	@echo "make bench   run the benchmarks against simulators"
	@echo "make test-deploy  the README production recipe behind a real nginx (installs nginx, openssl; needs root or sudo)"
	@echo "make lint    ruff check + format check + import contracts;  make check  Django system checks + migrations check"

# The interpreter named in .python-version: python3.13 on PATH, pyenv's build, or $$PYTHON.
$(VENV)/bin/python:
	@py="$${PYTHON:-}"; \
	for cand in python$(PYVER) $$HOME/.pyenv/versions/$(PYVER)*/bin/python$(PYVER) /usr/local/bin/python$(PYVER) /usr/bin/python$(PYVER); do \
	  [ -n "$$py" ] && break; \
	  if command -v $$cand >/dev/null 2>&1 && $$cand -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py=$$cand; fi; \
	done; \
	if [ -z "$$py" ]; then echo "Python $(PYVER) not found: install it (e.g. 'pyenv install $(PYVER)') or set PYTHON=/path/to/python3.12+"; exit 1; fi; \
	echo "Creating $(VENV) with $$py"; $$py -m venv $(VENV)

$(STAMP): $(VENV)/bin/python requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the browser tests (no browser downloads); needs root or sudo on a fresh machine.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# Debian's redis-server: the cache tests start a real one on loopback (and stop it mid-test).
services:
	@command -v redis-server >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }

# Debian's nginx and openssl for the production recipe check (tests/deploy, run by .ci/run).
deploy-tools: services
	@{ command -v nginx && command -v openssl; } >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx openssl >/dev/null; }

# The README's production recipe for real: gunicorn behind nginx with TLS on loopback.
test-deploy: install deploy-tools
	$(PY) -m pytest -q -p no:randomly -n 0 tests/deploy

run: install
	DEBUG=1 $(PY) manage.py migrate --no-input -v 0
	DEBUG=1 $(PY) manage.py demo_operator
	DEBUG=1 $(PY) manage.py demo_fleet

test: install browser services
	$(PY) -m pytest -n $(PYTEST_WORKERS) -q

# Checks that read ../shared (contracts, recordings, the Retool OpenAPI seed). Run by .ci/run.
test-contract: install
	$(PY) -m pytest -q tests/contract

bench: install browser
	$(PY) -m tests.benchmarks

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

check: install
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

.PHONY: help install browser services deploy-tools run test test-contract test-deploy bench lint check
