# Samen Op: `make run` serves the demo, `make test` runs every test (SQLite and PostgreSQL).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# local http on 127.0.0.1: the session cookie cannot be Secure there (production keeps the default)
RUN_ENV := SAMENOP_COOKIE_SECURE=$${SAMENOP_COOKIE_SECURE:-false}

.PHONY: run test test-sqlite test-postgresql lint format clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	@$(RUN_ENV) $(BIN)/samenop demo
	@echo "Samen Op serves on http://127.0.0.1:8000 (Ctrl-C stops)"
	@$(RUN_ENV) $(BIN)/samenop serve --host 127.0.0.1 --port 8000

test: system-deps lint test-sqlite test-postgresql

# Debian's chromium and PostgreSQL server binaries, installed when missing (.ci/system-deps)
system-deps:
	@.ci/system-deps

test-sqlite: $(STAMP) system-deps
	$(BIN)/pytest --db=sqlite

test-postgresql: $(STAMP) system-deps
	$(BIN)/pytest --db=postgresql

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache

# the performance harness (bench/README.md): lookups, plan writes, reports and the feedback inbox under
# gunicorn, results in bench/results/. `make bench`: 100 000 persons; `make bench-large`: 1 000 000 persons
# (takes long: generation, a full index rebuild). More options: BENCH_ARGS="--seconds 5 --only address"
.PHONY: bench bench-large
bench: $(STAMP)
	$(BIN)/python -m bench.lookup $(BENCH_ARGS)

bench-large: $(STAMP)
	$(BIN)/python -m bench.lookup --large $(BENCH_ARGS)
