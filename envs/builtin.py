"""The built-in suite: one row per registered id (``register_builtins`` runs on import).

To add a built-in env, write its class (in the ``envs/`` module of its family) and add a row
here: ``BuiltinEnv("grpo_gym/Name-v0", "grpo_gym.envs.module:Class", {kwargs}, "one-line
description")``. An env class is named after the task it poses, like its id and without an
``Env`` suffix (``grpo_gym/JsonObject-v0`` is ``JsonObject``).
The description defaults to the class's ``description``. Bump the ``-vN`` whenever a change
alters the tasks or rewards of an existing id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from .registry import register


@dataclass(frozen=True)
class BuiltinEnv:
    id: str
    entry_point: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None


BUILTIN_ENVS: tuple[BuiltinEnv, ...] = (
    # --- math ---
    BuiltinEnv("grpo_gym/Arithmetic-v0", "grpo_gym.envs.arithmetic:Arithmetic"),
    BuiltinEnv(
        "grpo_gym/ArithmeticEasy-v0",
        "grpo_gym.envs.arithmetic:Arithmetic",
        {"digits": 1, "terms": 2, "ops": "+"},
        "Add two single-digit numbers (the easiest math task)",
    ),
    BuiltinEnv("grpo_gym/Fractions-v0", "grpo_gym.envs.fractions_env:Fractions"),
    BuiltinEnv("grpo_gym/LinearEquation-v0", "grpo_gym.envs.linear:LinearEquation"),
    BuiltinEnv("grpo_gym/PolynomialRoots-v0", "grpo_gym.envs.polynomial:PolynomialRoots"),
    BuiltinEnv("grpo_gym/Simplify-v0", "grpo_gym.envs.algebra:Simplify"),
    BuiltinEnv("grpo_gym/Expand-v0", "grpo_gym.envs.algebra:Expand"),
    BuiltinEnv("grpo_gym/Factor-v0", "grpo_gym.envs.algebra:Factor"),
    BuiltinEnv("grpo_gym/Derivative-v0", "grpo_gym.envs.derivative:Derivative"),
    BuiltinEnv("grpo_gym/MathDataset-v0", "grpo_gym.envs.dataset:MathDataset"),
    BuiltinEnv("grpo_gym/MultiTurnMath-v0", "grpo_gym.envs.multiturn:MultiTurnMath"),
    # --- replies a program parses ---
    BuiltinEnv("grpo_gym/AnswerTags-v0", "grpo_gym.envs.structured:AnswerTags"),
    BuiltinEnv("grpo_gym/JsonObject-v0", "grpo_gym.envs.structured:JsonObject"),
    # --- layout, keywords and instructions ---
    BuiltinEnv("grpo_gym/BulletList-v0", "grpo_gym.envs.formatting:BulletList"),
    BuiltinEnv("grpo_gym/WordCount-v0", "grpo_gym.envs.formatting:WordCount"),
    BuiltinEnv(
        "grpo_gym/Lowercase-v0",
        "grpo_gym.envs.formatting:LetterCase",
        {"case": "lower"},
        "Write about a topic in all lowercase letters",
    ),
    BuiltinEnv(
        "grpo_gym/Uppercase-v0",
        "grpo_gym.envs.formatting:LetterCase",
        {"case": "upper"},
        "Write about a topic in all capital letters",
    ),
    BuiltinEnv("grpo_gym/Sections-v0", "grpo_gym.envs.formatting:Sections"),
    BuiltinEnv("grpo_gym/Keywords-v0", "grpo_gym.envs.keywords:Keywords"),
    BuiltinEnv("grpo_gym/KeywordFrequency-v0", "grpo_gym.envs.keywords:KeywordFrequency"),
    BuiltinEnv("grpo_gym/ForbiddenWords-v0", "grpo_gym.envs.keywords:ForbiddenWords"),
    BuiltinEnv("grpo_gym/Instructions-v0", "grpo_gym.envs.instructions:Instructions"),
    BuiltinEnv(
        "grpo_gym/InstructionsPartial-v0",
        "grpo_gym.envs.instructions:Instructions",
        {"mode": "partial"},
        "Follow 1-3 random constraints; reward = fraction satisfied",
    ),
)


def register_builtins() -> None:
    """Register every row of ``BUILTIN_ENVS`` (idempotent)."""
    for env in BUILTIN_ENVS:
        if env.id not in gym.registry:
            register(
                env.id,
                env.entry_point,
                kwargs=env.kwargs,
                description=env.description,
                source="builtin",
            )
