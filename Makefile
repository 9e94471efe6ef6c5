# Guanxi: `make run` and `make test` are all a new machine needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
export UV_PYTHON_DOWNLOADS := never
HOST ?= 127.0.0.1
PORT ?= 8000
PO_FILES := $(wildcard src/guanxi/locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)
PY_PATHS := src tests scripts $(wildcard bench)

.PHONY: run install test test-fast lint fmt bench lock messages demo-logins clean

run: install
	@$(VENV)/bin/guanxi migrate
	@$(VENV)/bin/guanxi demo load --if-empty
	@echo
	@echo "  Guanxi is starting on http://$(HOST):$(PORT)/"
	@echo "  Demo logins:"
	@$(VENV)/bin/guanxi demo logins
	@echo
	@$(VENV)/bin/guanxi serve --host $(HOST) --port $(PORT)

install: $(VENV)/.installed $(MO_FILES)

$(VENV)/.installed: requirements/lock.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install --quiet uv
	# Byte-compiled now: the environment may set PYTHONDONTWRITEBYTECODE, and compiling ibis' and sqlglot's
	# modules on every import costs each command (guanxi analyze, the test workers) about a second.
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements/lock.txt
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $@

%.mo: %.po
	msgfmt --check -o $@ $<

test: install
	@scripts/run-tests

test-fast: install
	@scripts/run-tests -m "not slow and not e2e"

lint: install
	$(VENV)/bin/ruff check $(PY_PATHS)
	$(VENV)/bin/ruff format --check $(PY_PATHS)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy src/guanxi/analytics src/guanxi/core src/guanxi/quality/process.py src/guanxi/sla/hours.py src/guanxi/offers/uplift.py

fmt: install
	$(VENV)/bin/ruff format $(PY_PATHS)
	$(VENV)/bin/ruff check --fix $(PY_PATHS)

bench: install
	@shopt -s nullglob; for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# Re-pin every dependency after editing pyproject.toml (records no index address).
lock: $(VENV)/.installed
	$(UV) pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 --no-emit-index-url -o requirements/lock.txt

# Refresh the zh-Hans catalogue after changing user-visible strings; then translate the new entries.
messages: install
	cd src/guanxi && ../../$(VENV)/bin/django-admin makemessages -l zh_Hans --no-obsolete --no-location \
		--settings=guanxi.settings --ignore 'demo/*'

demo-logins: install
	@$(VENV)/bin/guanxi demo logins

clean:
	rm -rf $(VENV) var .pytest_cache
