# Two commands on a fresh machine: `make run` (the API locally, with demo data) and `make test`.
# Both create .venv and install the project with its dev extra on first use.
# `make run PORT=3001` serves on another port (`outbound serve` prints the OUTBOUND_SERVER to export).
PYTHON ?= python3
PORT ?= 3000
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-unit openapi bench lint build deploy teardown clean chromium
# The SAM CLI lives in a venv of its own (its pins would fight the project's: pydantic, boto3).
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam

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

# Debian's chromium for the console's browser tests (tests/browser; Playwright drives it by path):
# installed when missing (root and Debian's mirror needed; the tests also try, and skip saying why
# when they cannot).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium)

# The fast tier: pure functions and the adapters against loopback emulators (about 20 s); no local stack.
test-unit: $(BIN)/.installed
	$(BIN)/python -m pytest tests/unit

# Rewrite docs/openapi.json from the code (the tests fail while it is stale).
openapi: $(BIN)/.installed
	$(BIN)/python scripts/openapi.py

bench: $(BIN)/.installed
	$(BIN)/outbound bench cold-start

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli>=1.130,<2"

# SAM's own validation (its transform, then cfn-lint with SAM's rules) and the project's cfn-lint.
lint: $(BIN)/.installed $(SAM)
	$(SAM) validate --lint --template template.yaml
	$(BIN)/cfn-lint template.yaml

# The functions and the layer, built by shared/Makefile (wheels for python3.12/arm64): needs make
# and any python3, not Python 3.12 and not Docker.
build: $(SAM)
	$(SAM) build --template template.yaml

# The first time (no samconfig.toml yet): guided, it asks for the stack name, region and
# parameters (VoiceStreamUrl...) and saves them to samconfig.toml; then `sam deploy` reuses them.
deploy: build
	@if [ -f samconfig.toml ]; then $(SAM) deploy; else $(SAM) deploy --guided; fi

# Everything the stack made, in one command: empties the imports bucket, deletes the stack's
# provider and webhook secrets (asks first; YES=1 does not), then `sam delete`. STACK=<name>.
teardown: $(BIN)/.installed $(SAM)
	@test -n "$(STACK)" || { echo "say which stack: make teardown STACK=<stack name> [REGION=...] [YES=1]"; exit 2; }
	$(BIN)/outbound teardown --stack "$(STACK)" --sam "$(SAM)" $(if $(REGION),--region "$(REGION)") $(if $(YES),--yes)

clean:
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache .aws-sam
