"""GRPO agent: model loading, sampling, the GRPO loss, the training loop and evaluation."""

from .model import DEFAULT_MODEL, ModelLoadError, load_policy

__all__ = ["DEFAULT_MODEL", "ModelLoadError", "load_policy"]
