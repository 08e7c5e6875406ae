"""grpo-gym: Gymnasium text environments with verifiable rewards, and a GRPO agent.

Subpackages:
    grpo_gym.envs     text environments, registry, built-in benchmark suite
    grpo_gym.rewards  pure reward functions: answer extraction, safe math equivalence, format rubrics
    grpo_gym.agent    GRPO trainer, model loading, evaluation
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("grpo-gym")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
