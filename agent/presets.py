"""Named settings for ``GRPOConfig`` (``grpo-gym train --preset NAME``, ``GRPOConfig.from_dict``)."""

from __future__ import annotations

from typing import Any

from .sampling import SamplingConfig

PRESETS: dict[str, dict[str, Any]] = {
    # The README's main job: <= 10 minutes on a 2-core CPU with smollm2-135m.
    "demo": dict(
        model="smollm2-135m",
        env=("grpo_gym/Arithmetic-v0",),
        env_kwargs='{"digits": 2, "terms": 2, "ops": "+"}',
        steps=10,
        prompts_per_step=4,
        group_size=8,
        sampling=SamplingConfig(max_new_tokens=48, temperature=0.7),
        lr=2e-5,
        beta=0.02,
        eval_problems=40,
        output_dir="runs/demo",
    ),
}
