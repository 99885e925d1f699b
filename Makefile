# Vigil — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test lint typecheck migrations-check pytest install e2e-deps clean bench faults soak

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Vigil and its tools into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e ".[dev,embedded]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Set up and start the whole product with demo data (web, worker, beat).
demo: install
	@$(BIN)/python scripts/demo.py

## The whole check: lint, types, migrations, architecture, tests.
test: install lint typecheck migrations-check pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .
	$(BIN)/lint-imports

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

pytest: install
	$(BIN)/pytest

bench: install
	@echo "See benchmarks/README.md"

## Long fault runs, not part of `make test` (a private PostgreSQL cluster restarted under
## load, rollup workers killed): FAULTS_ARGS=--write-docs records them in docs/benchmarks.md.
faults: install
	$(BIN)/python benchmarks/faults.py $(FAULTS_ARGS)

## 10-minute soak (gunicorn + worker + beat): SOAK_ARGS="--rate 2000 --write-docs".
soak: install
	$(BIN)/python benchmarks/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .vigil
