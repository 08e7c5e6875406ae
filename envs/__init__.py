"""Gymnasium text environments with verifiable rewards.

Importing this package registers the built-in suite under the ``grpo_gym`` namespace and loads
third-party envs from the ``grpo_gym.envs`` entry-point group (see ``load_plugins``)::

    import gymnasium as gym
    import grpo_gym.envs  # noqa: F401

    env = gym.make("grpo_gym/Arithmetic-v0", digits=1, terms=2, ops="+")
    prompt, info = env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(info["reference"])   # reward == 1.0

    group = gym.make_vec("grpo_gym/Arithmetic-v0", num_envs=8, vectorization_mode="async")
    prompts, _ = group.reset(seed=[0] * 8)      # one GRPO group: 8 identical prompts

``list_envs()`` describes every registered env; ``grpo-gym envs list|show|check`` is the CLI.
``grpo_gym.envs.trl`` turns any env into a dataset and reward for TRL's ``GRPOTrainer``.
"""

from grpo_gym.rewards.types import RewardResult, Task

from . import benchmark_registry  # noqa: F401  (registers the benchmark envs)
from .algebra import Expand, Factor, Simplify
from .arithmetic import Arithmetic
from .base import EnvSettingsError, EnvUsageError, TextEnv, task_split
from .builtin import BUILTIN_ENVS, register_builtins
from .dataset import MathDataset
from .derivative import Derivative
from .formatting import BulletList, LetterCase, Sections, WordCount
from .fractions_env import Fractions
from .instructions import Instructions
from .keywords import ForbiddenWords, KeywordFrequency, Keywords
from .linear import LinearEquation
from .multiturn import MultiTurnMath
from .polynomial import PolynomialRoots
from .reasoning_gym import ReasoningGym, register_reasoning_gym
from .registry import (
    NAMESPACE,
    PLUGIN_GROUP,
    EnvRecord,
    PluginWarning,
    UnknownEnvError,
    list_envs,
    load_plugins,
    make,
    make_vec,
    register,
    resolve_id,
)
from .spaces import UnicodeText
from .structured import AnswerTags, JsonObject

__all__ = [
    "BUILTIN_ENVS",
    "NAMESPACE",
    "PLUGIN_GROUP",
    "Arithmetic",
    "Derivative",
    "EnvRecord",
    "EnvSettingsError",
    "EnvUsageError",
    "Expand",
    "Factor",
    "Fractions",
    "LinearEquation",
    "MathDataset",
    "MultiTurnMath",
    "PluginWarning",
    "PolynomialRoots",
    "ReasoningGym",
    "RewardResult",
    "Simplify",
    "Task",
    "TextEnv",
    "UnicodeText",
    "UnknownEnvError",
    "list_envs",
    "load_plugins",
    "make",
    "make_vec",
    "register",
    "resolve_id",
    "task_split",
]
# the writing envs: structured replies, layout, keywords, instructions
__all__ += [
    "AnswerTags", "BulletList", "ForbiddenWords", "Instructions", "JsonObject",
    "KeywordFrequency", "Keywords", "LetterCase", "Sections", "WordCount",
]  # fmt: skip

register_builtins()
register_reasoning_gym()
load_plugins()
