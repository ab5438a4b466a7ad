# Golden Time: two commands for a newcomer.
#   make demo  - create .venv, install, start the whole system on the embedded broker with a demo
#   make test  - create .venv, install dev tools, run ruff, mypy and pytest
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit integration bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	$(BIN)/goldentime network build data/seoul/roads/seoul_stdnodelink_2018 \
	  -o data/seoul/roads/seoul_stdnodelink_2018.compiled
	touch $(STAMP)

# NENA's EIDO schema is not shipped (no licence); the shared folder beside the checkout has it.
EIDO_SCHEMA := $(wildcard ../shared/standards/eido/Schema/openapi.yaml)

demo: $(STAMP)
	GOLDENTIME_AUTH=demo $(if $(EIDO_SCHEMA),GOLDENTIME_EIDO_SCHEMA_DIR=$(abspath $(dir $(EIDO_SCHEMA)))) \
		$(BIN)/goldentime up --partner-demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP)
	$(BIN)/pytest tests/integration tests/chaos -q

test: $(STAMP) lint typecheck
	$(BIN)/pytest -q

# Every benchmark in turn (each prints its figures and its ratio to a baseline run beside it).
BENCHES := routing firemap places video alerts dispatch sensors console scaleout
bench: $(STAMP)
	set -e; for name in $(BENCHES); do echo "== bench $$name"; $(BIN)/goldentime bench $$name; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var
