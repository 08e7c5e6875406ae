"""Passive OpenMP waits for training processes, set before torch loads its OpenMP runtime.

OpenMP threads that spin while they wait collapse when another process competes for the cores
(torch's intra-op pool: a GRPO step ran 3-5x slower beside one busy process). Passive waits cost
little on an idle machine (benchmarks/contention_bench.py). The runtime reads the setting once,
when torch loads it, so ``grpo_gym.agent`` imports this module before anything that imports
torch; ``grpo_gym.envs`` and ``grpo_gym.rewards`` never load torch and leave the setting alone.
The user's own ``OMP_WAIT_POLICY``, or a torch imported earlier, wins.
"""

from __future__ import annotations

import os
import sys

OMP_POLICY_SET = "OMP_WAIT_POLICY" not in os.environ and "torch" not in sys.modules
if OMP_POLICY_SET:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
