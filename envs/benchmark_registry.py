"""Registers the benchmark envs and the any-dataset env (imported by ``grpo_gym.envs``).

Each row: id, entry point, default kwargs, family. The source shown by ``grpo-gym envs list``
is ``"benchmark"`` for all of them.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from .registry import register

BENCHMARK_ENVS: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("grpo_gym/GSM8K-v0", "grpo_gym.envs.benchmarks:GSM8K", {}, "math"),
    ("grpo_gym/GSM8KFewShot-v0", "grpo_gym.envs.benchmarks:GSM8K", {"n_shot": 5}, "math"),
    ("grpo_gym/MATH500-v0", "grpo_gym.envs.benchmarks:MATH500", {}, "math"),
    ("grpo_gym/Dataset-v0", "grpo_gym.envs.dataset:DatasetEnv", {}, "dataset"),
    ("grpo_gym/IFEval-v0", "grpo_gym.envs.ifeval:IFEval", {}, "instruction following"),
    ("grpo_gym/IFEvalLike-v0", "grpo_gym.envs.ifeval:IFEvalLike", {}, "instruction following"),
    ("grpo_gym/IFBench-v0", "grpo_gym.envs.ifbench:IFBench", {}, "instruction following"),
)


_DESCRIPTIONS = {
    "grpo_gym/GSM8KFewShot-v0": "GSM8K with 5 worked train examples before each problem (5-shot)",
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
