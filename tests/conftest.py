"""Shared fixtures: a tiny random causal LM with a real tokenizer, loaded the way users load models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Same thread count whatever else the machine runs: exact-resume tests compare bits across runs
# (agent/cpu_share.py has its own tests).
os.environ["GRPO_GYM_CPU_SHARE"] = "0"

from grpo_gym.testing import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A save_pretrained folder holding a 2-layer random Llama and a BPE tokenizer."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_vllm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as saved, wide enough for vLLM (tests that change a loaded copy in memory
    leave this folder as is)."""
    # head_dim 64: vLLM's CPU attention has no kernel for the default tiny model's 16
    return build_tiny_model(tmp_path_factory.mktemp("tiny-vllm"), hidden_size=256)


@pytest.fixture()
def tiny_policy(tiny_model_dir: Path):
    """(model, tokenizer) loaded through load_policy on CPU."""
    from grpo_gym.agent import load_policy

    return load_policy(tiny_model_dir, device="cpu")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests where CUDA is missing (CI and laptops); they run on a GPU machine."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
