# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv on first use and reinstalls only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test,bench]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

# The audit on generated sample data (the BSD PDQ test images and edited
# copies of five of them, planted among the others), then a check that
# every planted copy shows up in the matches table.
DEMO ?= out/demo
demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(BIN)/python -m photosieve.pipelines.demo_data make $(DEMO)
	$(BIN)/photosieve audit --config configs/local.yaml --input $(DEMO)/archive --archives --dihedral \
		--list known=$(DEMO)/lists/known.csv --suppress-list benign=$(DEMO)/lists/benign.txt \
		--video-list 'known-videos=$(DEMO)/lists/known-videos/*.txt' \
		--output $(DEMO)/run
	$(BIN)/python -m photosieve.pipelines.demo_data check $(DEMO)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
