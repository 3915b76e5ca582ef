# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make chat   - start the assistant (console chat, SQLite under ./var)
#   make test   - run the whole test suite (catalogue check, translations, tests)
#   make lint   - ruff, mypy and the import contracts (import-linter), as CI runs them before the tests
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

.PHONY: chat test lint bench install
install: $(VENV)/.installed

chat: $(VENV)/.installed
	$(VENV)/bin/dvcbot chat

LINT_PATHS := bot dialogs storage tests bench scripts

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# the suite on every CPU (pytest-xdist; each process migrates its own template database): `make test
# PYTEST_WORKERS=0` runs it in this process, e.g. to step through a test
PYTEST_WORKERS ?= auto

test: $(VENV)/.installed
	$(VENV)/bin/dvcbot catalog check
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) bench/engine_bench.py
	$(PY) bench/telegram_bench.py
	@if [ -n "$$DVCBOT_TEST_PG" ]; then $(PY) bench/scaleout_bench.py; \
	else echo "bench/scaleout_bench.py skipped: it needs a PostgreSQL server (set DVCBOT_TEST_PG)"; fi
