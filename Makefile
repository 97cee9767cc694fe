# Two commands: `make run` and `make test`. Each sets up what it needs first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test chaos lint system system-tests ward-modes clean

run: system ward-modes $(STAMP)
	$(BIN)/broadcast run --schedule schedule.yaml

# The daemon tests spend most of their time waiting for the clock, so they run side by side;
# idle workers take tests from busy ones, so the slow ones do not queue up behind each other.
test: system-tests ward-modes $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 4 --dist worksteal

# The chaos runs at full length: ten minutes of abuse each (the short version runs in `make test`).
chaos: system-tests $(TEST_STAMP)
	BROADCAST_CHAOS_SECONDS=600 $(BIN)/pytest -m chaos -n 4 -s

lint: system $(TEST_STAMP)
	$(BIN)/ruff check .

# The daemon trusts approvers.yaml and lexicon.yaml only if no one but their owner may change
# them or this folder (a checkout made with umask 002 is group-writable).
ward-modes:
	@chmod go-w . approvers.yaml lexicon.yaml

system:
	@PYTHON=$(PYTHON) sh tools/setup-system.sh

system-tests:
	@PYTHON=$(PYTHON) sh tools/setup-system.sh --tests

$(VENV)/bin/pip:
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/pip
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/pip
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

clean:
	rm -rf $(VENV) .broadcast .pytest_cache .ruff_cache
