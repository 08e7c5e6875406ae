"""grpo-gym: Gymnasium text environments with verifiable rewards, and a GRPO agent.

Subpackages:
    grpo_gym.envs     text environments, registry, built-in benchmark suite
    grpo_gym.rewards  pure reward functions: answer extraction, safe math equivalence, format rubrics
    grpo_gym.agent    GRPO trainer, model loading, evaluation
"""

import os
import sys
from importlib.metadata import PackageNotFoundError, version

# OpenMP threads that spin while they wait collapse when another process competes for the cores
# (torch's intra-op pool: a GRPO step ran 3-5x slower beside one busy process). Passive waits
# cost little on an idle machine (benchmarks/contention_bench.py). It only takes effect if set
# before torch loads its OpenMP runtime; the user's own setting always wins.
OMP_POLICY_SET = "OMP_WAIT_POLICY" not in os.environ and "torch" not in sys.modules
if OMP_POLICY_SET:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

try:
    __version__ = version("grpo-gym")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
