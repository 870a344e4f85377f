# Two commands on a fresh machine with Python 3.11, pip and make:
#   make run    set up .venv if missing, then run the escalation scenario (against baseline)
#   make test   set up .venv if missing, then run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/escalation.yaml

.PHONY: run test lint bench clean-venv

$(BIN)/activate: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(BIN)/activate

run: $(BIN)/activate
	$(BIN)/python -m models.run $(CONFIG)

test: $(BIN)/activate
	$(BIN)/python -m pytest

lint: $(BIN)/activate
	$(BIN)/ruff check .

bench: $(BIN)/activate
	$(BIN)/python -m benchmarks

clean-venv:
	rm -rf $(VENV)
