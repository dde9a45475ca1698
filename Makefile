# Switchyard: `make dev` sets up and starts the gateway; `make test` installs and runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: dev install migrate run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py load_demo_registry

run:
	$(BIN)/uvicorn gateway.asgi:application --host $(HOST) --port $(PORT) \
		--loop uvloop --http httptools --no-access-log --lifespan on

dev: migrate run

test:
	bash scripts/test

bench: install
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) data logs staticfiles
