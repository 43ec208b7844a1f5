# The two commands of the README:
#   make demo   set everything up and start the console on its embedded default
#   make test   set everything up and run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench clean

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/run-gui.sh $(PY) -m console demo

test: setup
	bash scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy console ui media cardreader server demo
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
