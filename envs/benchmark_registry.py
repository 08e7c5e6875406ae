"""Registers the benchmark envs and the any-dataset env (imported by ``grpo_gym.envs``).

Each row: id, entry point, default kwargs, family. The source shown by ``grpo-gym envs list``
is ``"benchmark"`` for all of them.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from .registry import register

_V0: dict[str, Any] = {"min_words": 8}

BENCHMARK_ENVS: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("grpo_gym/GSM8K-v0", "grpo_gym.envs.benchmarks:GSM8K", {}, "math"),
    ("grpo_gym/GSM8KFewShot-v0", "grpo_gym.envs.benchmarks:GSM8K", {"n_shot": 5}, "math"),
    ("grpo_gym/MATH500-v0", "grpo_gym.envs.benchmarks:MATH500", {}, "math"),
    ("grpo_gym/Dataset-v0", "grpo_gym.envs.dataset:DatasetEnv", {}, "dataset"),
    ("grpo_gym/IFEval-v1", "grpo_gym.envs.ifeval:IFEval", {}, "instruction following"),
    ("grpo_gym/IFEvalLike-v0", "grpo_gym.envs.ifeval:IFEvalLike", {}, "instruction following"),
    ("grpo_gym/IFBench-v1", "grpo_gym.envs.ifbench:IFBench", {}, "instruction following"),
    # v0: the same envs with their first reward, gated at 8 words (pass@1 below the official
    # prompt-level strict accuracy); kept so old reports and scripts reproduce
    ("grpo_gym/IFEval-v0", "grpo_gym.envs.ifeval:IFEval", _V0, "instruction following"),
    ("grpo_gym/IFBench-v0", "grpo_gym.envs.ifbench:IFBench", _V0, "instruction following"),
)


_DESCRIPTIONS = {
    "grpo_gym/GSM8KFewShot-v0": "GSM8K with 5 worked train examples before each problem (5-shot)",
    "grpo_gym/IFEval-v0": "IFEval-v1 with its first reward: replies under 8 words score 0",
    "grpo_gym/IFBench-v0": "IFBench-v1 with its first reward: replies under 8 words score 0",
}


def register_benchmarks() -> None:
    """Register every row of ``BENCHMARK_ENVS`` (idempotent)."""
    for env_id, entry_point, kwargs, family in BENCHMARK_ENVS:
        if env_id not in gym.registry:
            register(
                env_id,
                entry_point,
                kwargs=kwargs,
                description=_DESCRIPTIONS.get(env_id),
                source="benchmark",
                family=family,
            )


register_benchmarks()
