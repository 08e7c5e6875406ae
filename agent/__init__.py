"""GRPO agent: model loading, sampling, the GRPO loss, the training loop and evaluation.

Where a prompt becomes an update, in a few hops:
    rollout.prompt_stream -> sampling.HFSampler.generate -> rollout.collect (env.step rewards)
    -> loss.group_advantages -> batch.micro_batches -> logprobs.completion_logprobs
    -> loss.grpo_loss -> trainer.optimise

CPU speed-ups, each a small module with its measurement in the docstring: prepack (oneDNN-packed
weights while generating), cpu_memory (reuse freed memory instead of page-faulting big tensors),
and in logprobs the LM head on real completion tokens only, shared prompts and a sparse
tied-embedding gradient.
"""

from .config import PRESETS, GRPOConfig
from .evaluate import EvalConfig, evaluate
from .loss import group_advantages, grpo_loss
from .model import DEFAULT_MODEL, ModelLoadError, load_policy
from .passk import pass_at_k
from .report import EvalReport, format_summary
from .sampling import HFSampler, Policy, SamplingConfig
from .trainer import TrainResult, train

__all__ = [
    "DEFAULT_MODEL",
    "PRESETS",
    "EvalConfig",
    "EvalReport",
    "GRPOConfig",
    "HFSampler",
    "ModelLoadError",
    "Policy",
    "SamplingConfig",
    "TrainResult",
    "evaluate",
    "format_summary",
    "group_advantages",
    "grpo_loss",
    "load_policy",
    "pass_at_k",
    "train",
]
