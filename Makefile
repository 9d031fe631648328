# atp-warehouse: `make run` builds the warehouse, `make test` proves it offline.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster
DBT_MANIFEST := dbt_project/target/manifest.json
# Exports ATP_WAREHOUSE as the Python side resolves it (absolute, from this directory), for the
# dbt commands below that run in dbt_project/.
# After `make demo` alone, `make dev` and `make docs` show the demo's warehouse and runs (and say
# so); once data/ has a warehouse of one's own, that one (ingest/demo_data.py).
DEMO_FALLBACK = eval "$$($(BIN)/python -m ingest.demo_data)"
RESOLVE_WAREHOUSE = export ATP_WAREHOUSE="$$($(BIN)/python -c \
	'from ingest.settings import warehouse_path; print(warehouse_path())')"
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)

.PHONY: install prepare run refresh rebuild test lint dev daemon serve docs bench clean demo

install: $(VENV)/.installed

# Reinstall only when pyproject.toml changes, so a second `make run` skips this.
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

# dbt's manifest, which the Dagster definitions load; rebuilt when a model, test or seed changes.
# Parsed for the warehouse the run will use, so that the first build reuses this parse.
prepare: $(DBT_MANIFEST) $(DAGSTER_HOME)/dagster.yaml

$(DBT_MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	$(BIN)/atp prepare
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp $< $@

run: install prepare
	$(BIN)/atp run

refresh: install prepare
	$(BIN)/atp refresh

rebuild: install prepare
	$(BIN)/atp rebuild

# The whole pipeline on realistic demo data served by a local fake Census API: no key, no
# network; everything (warehouse, published copy, report, Dagster runs) goes to data/demo/.
demo: install prepare
	$(BIN)/python -m fake_census.demo

test: install prepare
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

dev: install prepare
	$(DEMO_FALLBACK) && $(BIN)/dagster dev -w workspace.yaml

# For real use: the UI and the daemon (which runs the nightly schedule and the run queue) as two
# long-running processes, e.g. under systemd; `make dev` runs both in one for trying things out.
daemon: install prepare
	$(BIN)/dagster-daemon run -w workspace.yaml

# The production pair in one command: the daemon (schedule, run queue, run monitoring, retries,
# alerts) and the webserver on 127.0.0.1:3000, with dagster.yaml's production settings; Ctrl-C
# or SIGTERM stops both. deploy/ has systemd units and a compose file for the same two.
serve: install prepare
	@# The instance's storage first: the two processes starting together would both create it.
	$(BIN)/dagster instance migrate >/dev/null
	@trap 'kill 0' EXIT; \
	$(BIN)/dagster-daemon run -w workspace.yaml & \
	$(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p 3000

# dbt's documentation site as one static page (every mart, column and test), from the working
# warehouse's catalog: open data/docs/static_index.html in a browser.
docs: install prepare
	$(DEMO_FALLBACK) && $(RESOLVE_WAREHOUSE) && cd dbt_project && \
		../$(BIN)/dbt docs generate --static --profiles-dir . --target-path $(CURDIR)/data/docs
	@echo "Open $(CURDIR)/data/docs/static_index.html"

bench: install prepare
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs .pytest_cache
