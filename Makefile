# Common Ground — the front door. `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

export DO_NOT_TRACK := 1
export RUNTIME__DLTHUB_TELEMETRY := false
export GX_ANALYTICS_ENABLED := false
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: demo test ui install install-dev install-semantic manifest metrics lint clean bench bench-quick

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP_INSTALL) -e ".[dev]"
	@touch $@

$(VENV)/.installed-semantic: $(VENV)/.installed
	$(PIP_INSTALL) -e ".[semantic]"
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

install-semantic: $(VENV)/.installed-semantic

manifest: install  ## parse the dbt project so Dagster can load its manifest
	$(BIN)/python -c "from pipelines.local import prepare_dbt_manifest; prepare_dbt_manifest()"

demo: install  ## run one whole night against the sandbox on DuckDB and print the report
	$(BIN)/python -m pipelines.demo

# Two pytest-xdist workers, each running whole modules in the order tests/conftest.py gives them (the longest
# first); TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: install-dev manifest  ## every test: unit, sandbox, connectors, end to end
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests; the suite must not be empty" >&2; exit 1; fi; \
	exit $$status

ui: install manifest  ## the Dagster UI on 127.0.0.1:3000 with the sandbox running
	$(BIN)/python -m pipelines.ui

# The shared metrics through MetricFlow on the demo's warehouse (run `make demo` first), e.g.
# `make metrics METRICS=mqls,cac GROUP_BY=metric_time__week`; `mf` answers `--help` for the rest.
METRICS ?= mqls,sqls,cost_per_mql,cac
GROUP_BY ?= metric_time__month,channel
comma := ,
ORDER ?= $(firstword $(subst $(comma), ,$(GROUP_BY)))
metrics: install-semantic manifest  ## query the shared metrics through the dbt semantic layer (MetricFlow)
	@warehouse=$${WAREHOUSE_DUCKDB_PATH:-$(CURDIR)/warehouse/warehouse.duckdb}; \
	if [ ! -f "$$warehouse" ]; then echo "no warehouse at $$warehouse: run make demo first" >&2; exit 1; fi; \
	cd dbt_project && DBT_PROFILES_DIR=$(CURDIR)/dbt_project WAREHOUSE_DUCKDB_PATH="$$warehouse" \
		$(CURDIR)/$(BIN)/mf query --metrics $(METRICS) --group-by $(GROUP_BY) --order $(ORDER)

bench: install  ## benchmarks at scales S and M, 3 repeats (an hour or more; the M sandbox needs ~5 GB)
	$(BIN)/python -m benchmarks

bench-quick: install  ## benchmarks at scale S, 1-2 repeats (a few minutes)
	$(BIN)/python -m benchmarks --quick

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf warehouse .dagster_home dbt_project/target dbt_project/logs
