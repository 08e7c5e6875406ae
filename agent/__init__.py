"""GRPO agent: model loading, engines, the GRPO step, the training loop and evaluation.

Installed as ``grpo_gym.agent`` (the folder ``agent/`` at the repository root; see the README's
"Layout"). Where a prompt becomes an update, in algorithm order:

    step.grpo_step                          one GRPO step, on one screen
      -> step.sample_groups                 draw prompts (rollout.prompt_stream), then
         -> rollout.collect                 reset envs, sample G replies per prompt
            -> engines.HFSampler.generate   (the engine), and score them (env.step)
      -> loss.group_advantages              A = (r - mean) / std within each group
      -> update.Learner.update              reference log-probs, mu passes over micro-batches
         -> loss.grpo_loss                  clipped surrogate + beta * KL (logprobs.completion_logprobs)

``trainer.train`` builds a run and repeats the step; logs, checkpoints, evaluation, curriculum
and reference sync are hooks (hooks.py). The two seams: an *engine* samples (engines/), a
*learner* updates (update.py). CPU speed-ups sit apart in ``fast/``, each beside the plain path
it replaces and chosen by an explicit setting.
"""

from . import openmp_policy  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch loads)
from .config import GRPOConfig
from .engines import Engine, HFSampler, make_engine
from .evaluate import EvalConfig, evaluate
from .logprobs import completion_logprobs, plain_completion_logprobs
from .loss import group_advantages, grpo_loss
from .model import DEFAULT_MODEL, ModelLoadError, load_policy
from .passk import pass_at_k
from .presets import PRESETS
from .report import EvalReport, format_summary
from .sampling import Generation, Policy, SamplingConfig
from .step import StepResult, grpo_step
from .trainer import TrainResult, train
from .update import Learner, UpdateStats

__all__ = [
    "DEFAULT_MODEL",
    "PRESETS",
    "Engine",
    "EvalConfig",
    "EvalReport",
    "GRPOConfig",
    "Generation",
    "HFSampler",
    "Learner",
    "ModelLoadError",
    "Policy",
    "SamplingConfig",
    "StepResult",
    "TrainResult",
    "UpdateStats",
    "completion_logprobs",
    "evaluate",
    "format_summary",
    "group_advantages",
    "grpo_loss",
    "grpo_step",
    "load_policy",
    "make_engine",
    "pass_at_k",
    "plain_completion_logprobs",
    "train",
]
