# Everything runs from the local virtual environment in .venv, made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Parallel test workers; each gets a database of its own.
WORKERS ?= auto

.PHONY: install run serve worker migrate seed test lint openapi bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

migrate: install
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/python -m seed demo

# Install, migrate var/workforce.db (or DATABASE_URL), load the demo data, serve.
run: seed serve

serve: install
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT)

# A Celery worker solving plans (needs WORKFORCE_BROKER_URL, as the API does).
worker: install
	$(BIN)/celery -A app.plans.tasks worker --concurrency 1 --loglevel INFO

test: install
	$(BIN)/pytest -n $(WORKERS) -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

openapi: install
	$(BIN)/python -m app openapi -o openapi.yaml

bench: install
	$(BIN)/python bench/optimiser.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
