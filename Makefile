# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
HOST  ?= 127.0.0.1
PORT  ?= 8000
DEMO_PARCELS ?= 20000

.PHONY: setup demo serve test lint typecheck bench stop clean

setup:            ## install what is missing, start PostgreSQL if needed, migrate
	@bash scripts/setup.sh

demo: setup       ## set up, load the demo data (once), serve on http://$(HOST):$(PORT)
	@$(BIN)/cadastre demo load --parcels $(DEMO_PARCELS)
	@echo "Serving on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	@$(BIN)/cadastre serve --host $(HOST) --port $(PORT) --workers 2

serve:
	@$(BIN)/cadastre serve --host $(HOST) --port $(PORT) --workers 2

test: setup       ## set up, then lint, check the import boundaries and run every test
	@$(BIN)/ruff check .
	@$(BIN)/lint-imports --no-cache
	@$(BIN)/mypy
	@$(BIN)/pytest -q

bench: setup      ## benchmarks against named peers; figures go to docs/benchmarks.md
	@$(BIN)/python -m bench.run

stop:             ## stop the project-local PostgreSQL cluster, if one was started
	@if [ -f .cadastre/pgdata/postmaster.pid ]; then \
	  if [ "$$(id -u)" = 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D .cadastre/pgdata -m fast stop; \
	  else /usr/lib/postgresql/15/bin/pg_ctl -D .cadastre/pgdata -m fast stop; fi; \
	else echo "no project-local cluster is running"; fi

clean: stop
	rm -rf $(VENV) .cadastre .pytest_cache .mypy_cache .ruff_cache
