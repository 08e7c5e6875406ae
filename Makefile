# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Each creates .venv if missing and installs the project into it (idempotent: re-runs only
# when pyproject.toml changes). TORCH pins the torch wheel; GPU users override it, e.g.
#   make demo TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=
# Optional extras installed by the set-up; their tests run in `make test` (and so in CI).
EXTRAS ?= test,benchmarks

.PHONY: setup demo test lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

demo: setup  # a fresh run each time (the demo's own folder, runs/demo, is replaced)
	rm -rf runs/demo
	$(VENV)/bin/grpo-gym train --preset demo --output-dir runs/demo

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not gpu" $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) build *.egg-info
