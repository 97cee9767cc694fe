# Two commands: `make run` and `make test`. Each sets up what it needs first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint system clean

run: system $(STAMP)
	$(BIN)/broadcast run --schedule schedule.yaml

test: system $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

system:
	@sh tools/setup-system.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

clean:
	rm -rf $(VENV) .broadcast .pytest_cache .ruff_cache
