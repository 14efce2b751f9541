# Every target installs what it needs into .venv (idempotent: a stamp file records the
# installed pyproject.toml, so a second run does not reinstall).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench schema lint clean fuzz soak

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/intcfg demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -q

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/loop.py

# Coverage-guided fuzzing of loader, validate, renderers and fmt (atheris, installed here
# only). FUZZ_SECONDS=0 runs until stopped; crashes are written as crash-* files.
FUZZ_SECONDS ?= 120
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet 'atheris>=2.3'
	mkdir -p $(VENV)/fuzz-corpus
	for f in config-repo-example/intcfg.yaml config-repo-example/districts/*/*.yaml; do \
		cp $$f $(VENV)/fuzz-corpus/$$(echo $$f | tr / _); done
	$(BIN)/python fuzz/fuzz_loader.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -timeout=20 \
		$(VENV)/fuzz-corpus

# The reconcile loop against `intcfg sim serve` with faults, outside the test suite.
# SOAK_CYCLES=100 SOAK_MINUTES=30 for the full run; figures in bench/RESULTS-soak.md.
soak: $(STAMP)
	$(BIN)/python bench/soak.py

schema: $(STAMP)
	$(BIN)/intcfg schema

clean:
	rm -rf $(VENV) build dist .pytest_cache
