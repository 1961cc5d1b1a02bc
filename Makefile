# Two commands on a fresh machine: `make run` (the API locally, with demo data) and `make test`.
# Both create .venv and install the project with its dev extra on first use.
# `make run PORT=3001` serves on another port (`outbound serve` prints the OUTBOUND_SERVER to export).
PYTHON ?= python3
PORT ?= 3000
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-unit openapi bench lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/.installed
	$(BIN)/outbound serve --port $(PORT)

# Test files are spread over the machine's cores (pytest-xdist), a whole file per worker: each
# worker starts its own local stack, so files never share state across workers.
test: $(BIN)/.installed
	$(BIN)/python -m pytest -n auto --dist loadfile

# The fast tier: pure functions and the adapters against loopback emulators (about 20 s); no local stack.
test-unit: $(BIN)/.installed
	$(BIN)/python -m pytest tests/unit

# Rewrite docs/openapi.json from the code (the tests fail while it is stale).
openapi: $(BIN)/.installed
	$(BIN)/python scripts/openapi.py

bench: $(BIN)/.installed
	$(BIN)/outbound bench cold-start

lint: $(BIN)/.installed
	$(BIN)/cfn-lint template.yaml

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
