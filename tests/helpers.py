"""Helpers shared by the test modules (test modules never import each other)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/* envs, which tiny_cfg trains on)
from grpo_gym.agent import GRPOConfig

#: Envs whose whole-space tests take tens of seconds (IFEvalLike builds and checks long prompts):
#: those parametrizations run in the slow suite (`make test-slow`), the others in `make test`.
SLOW_ENVS = frozenset({"grpo_gym/IFEvalLike-v0"})


def env_params(ids: Iterable[Any], slow: frozenset[str] = SLOW_ENVS) -> list[Any]:
    """``ids`` for ``pytest.mark.parametrize``, those naming a slow env marked ``slow``.

    An id may be a tuple (several parametrized names): it is slow if any slow env is in it.
    """

    def is_slow(value: Any) -> bool:
        parts = value if isinstance(value, tuple) else (value,)
        return any(isinstance(p, str) and p in slow for p in parts)

    def param(value: Any) -> Any:
        values = value if isinstance(value, tuple) else (value,)
        return pytest.param(*values, marks=pytest.mark.slow)

    return [param(v) if is_slow(v) else v for v in ids]


def tiny_cfg(model_dir: Path, out: Path, **kw: Any) -> GRPOConfig:
    """A quiet two-step run of the tiny model on the Letter test env (``kw`` override it)."""
    base = dict(
        model=str(model_dir),
        env=("grpo_gym_test/Letter-v0",),
        steps=2,
        prompts_per_step=2,
        group_size=4,
        max_new_tokens=12,
        lr=1e-3,
        beta=0.04,
        device="cpu",
        output_dir=str(out),
        eval_before_after=False,
        progress=False,
        seed=0,
    )
    base.update(kw)
    return GRPOConfig.from_dict(base)


def verdicts_in_two_processes(script: str) -> list[Any]:
    """The JSON last printed by ``script``, run in two processes with different hash seeds
    (each must print the same); no nltk download may be attempted."""
    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "nltk_data" not in proc.stderr  # no download was attempted
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert outs[0] == outs[1]
    return outs[0]
