# Two commands on a fresh machine:  `make run` (the daemon on ./config.yaml)  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TYPECHECK := $(VENV)/typecheck/newsmon

.PHONY: install run test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newsmon run

# mypy finds the package through a directory holding `newsmon` -> the repository root
$(TYPECHECK):
	mkdir -p $(dir $@)
	ln -sfn "$(CURDIR)" $@

test: $(STAMP) $(TYPECHECK)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/python -m pytest

lint: $(STAMP) $(TYPECHECK)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
