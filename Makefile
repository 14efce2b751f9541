# Every target installs what it needs into .venv (idempotent: a stamp file records the
# installed pyproject.toml, so a second run does not reinstall).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench schema lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/intcfg demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

schema: $(STAMP)
	$(BIN)/intcfg schema

clean:
	rm -rf $(VENV) build dist .pytest_cache
