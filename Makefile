# Two set-up commands on a fresh clone: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/hotline demo

lint: $(STAMP)
	$(BIN)/ruff check acd ivr recordings tests bench
	$(BIN)/ruff format --check acd ivr recordings tests bench
	$(BIN)/mypy

test: $(STAMP)
	bash scripts/test.sh
