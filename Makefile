# The two commands of the README:
#   make demo   serves the demo award at http://127.0.0.1:8000 (SQLite)
#   make test   lints, type-checks and runs the whole suite on SQLite and on PostgreSQL (side by side)
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: demo test setup test-deps lint suite sqlite postgresql messages catalogs bench

demo: setup
	$(UV) run --frozen award-jury demo

test: setup test-deps lint suite

setup:
	@scripts/bootstrap.sh

test-deps:
	@scripts/system-deps.sh test

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

# Both passes side by side (scripts/test.sh); `make sqlite` / `make postgresql` run one alone.
suite:
	UV=$(UV) scripts/test.sh $(PYTEST_ARGS)

sqlite:
	$(UV) run --frozen pytest --db sqlite $(PYTEST_ARGS)

postgresql:
	$(UV) run --frozen pytest --db postgresql $(PYTEST_ARGS)

# Re-extract messages into the de/en catalogs after changing user-facing text.
messages:
	$(UV) run --frozen python -m award_jury.web.catalogs update

catalogs:
	$(UV) run --frozen python -m award_jury.web.catalogs compile
