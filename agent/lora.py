"""LoRA training through ``peft`` (the optional extra ``grpo-gym[lora]``).

* ``apply_lora(model, LoraSettings(...))`` wraps a causal LM in adapters; only adapter weights
  train. Adapters start as a no-op (B = 0), so step 0 samples from the base model.
* ``adapters_off(model)``: the frozen reference is the base model with the adapters switched
  off, computed by the same module, so there is no second copy of the weights.
* ``model.save_pretrained(dir)`` on the wrapped model writes only the adapter (a checkpoint of a
  few MB); ``load_lora_checkpoint`` puts it back onto the base model for resuming.
* ``merged_state_dict(model)``: base + adapter weights under the plain model's parameter
  names, computed without touching the trained weights (what an inference engine loads).
* ``export_merged(checkpoint, out)`` writes a merged model that plain
  ``transformers.AutoModelForCausalLM.from_pretrained(out)`` loads, without peft.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .fieldhelp import help_text

LORA_EXTRA_HINT = "LoRA needs peft: pip install 'grpo-gym[lora]' (or pip install peft)"
ADAPTER_CONFIG = "adapter_config.json"


@dataclass(frozen=True)
class LoraSettings:
    """LoRA hyper-parameters (``lora_r = 0`` means full fine-tuning, no adapters)."""

    lora_r: int = field(default=0, metadata=help_text("LoRA rank; 0 = train all weights (no LoRA)"))
    lora_alpha: float = field(
        default=32.0,
        metadata=help_text("LoRA scaling numerator (the update is scaled by alpha / r)"),
    )
    lora_dropout: float = field(
        default=0.0,
        metadata=help_text("dropout on the LoRA input (0 keeps policy and reference ratios exact)"),
    )
    lora_target_modules: tuple[str, ...] = field(
        default=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
        metadata=help_text(
            "names of the linear layers that get adapters, comma-separated, or all-linear"
        ),
    )

    def __post_init__(self) -> None:
        if isinstance(self.lora_target_modules, str):
            object.__setattr__(
                self,
                "lora_target_modules",
                tuple(t.strip() for t in self.lora_target_modules.split(",") if t.strip()),
            )
        if self.lora_r < 0:
            raise ValueError(f"lora_r must be >= 0 (0 = no LoRA), got {self.lora_r}")
        if self.lora_alpha <= 0:
            raise ValueError(f"lora_alpha must be > 0, got {self.lora_alpha}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if self.lora_r and not self.lora_target_modules:
            raise ValueError(
                "lora_target_modules is empty: name the linear layers (e.g. q_proj,v_proj) or all-linear"
            )

    @property
    def enabled(self) -> bool:
        return self.lora_r > 0


def _peft() -> Any:
    try:
        import peft
    except ImportError:
        raise ImportError(LORA_EXTRA_HINT) from None
    return peft


def linear_names(model: nn.Module) -> set[str]:
    """Last name components of the model's linear layers (the output head excluded)."""
    get_head = getattr(model, "get_output_embeddings", None)
    head = get_head() if callable(get_head) else None
    return {
        name.rsplit(".", 1)[-1]
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) and m is not head
    }


def apply_lora(model: nn.Module, settings: LoraSettings) -> nn.Module:
    """Wrap ``model`` in LoRA adapters (a ``peft.PeftModel``); base weights are frozen."""
    peft = _peft()
    if not settings.enabled:
        raise ValueError("apply_lora needs lora_r > 0")
    targets: list[str] | str = list(settings.lora_target_modules)
    if targets == ["all-linear"]:
        targets = "all-linear"
    else:
        missing = sorted(set(targets) - linear_names(model))
        if missing:
            raise ValueError(
                f"lora_target_modules {missing} are not linear layers of this model: choose from "
                f"{sorted(linear_names(model))} or all-linear"
            )
    config = peft.LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
        bias="none",
    )
    return peft.get_peft_model(model, config)


def is_lora(model: nn.Module) -> bool:
    """Whether ``model`` is a peft-wrapped model (without importing peft when it is absent)."""
    return any(cls.__module__.startswith("peft.") for cls in type(model).__mro__)


@contextlib.contextmanager
def adapters_off(model: Any) -> Iterator[nn.Module]:
    """Within the block, ``model`` (a peft model) computes the base model (the GRPO reference)."""
    with model.disable_adapter():
        yield model


def _base_name(name: str) -> str:
    """``base_model.model.model.layers.0.self_attn.q_proj.base_layer.weight`` -> the plain model's name."""
    name = name.removeprefix("base_model.model.")
    return name.replace(".base_layer.", ".")


@torch.no_grad()
def merged_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """The plain model's weights with the active adapters folded in (the trained weights are not modified).

    Tied weights appear once per name, as in ``state_dict``.
    """
    lora_layer = _peft().tuners.lora.LoraLayer
    merged: dict[str, Tensor] = {}
    for mod_name, module in model.named_modules():
        if isinstance(module, lora_layer) and not module.merged:
            delta = sum(
                module.get_delta_weight(a) for a in module.active_adapters if a in module.lora_A
            )
            base = module.get_base_layer()
            merged[_base_name(f"{mod_name}.base_layer.weight")] = (
                base.weight + delta if torch.is_tensor(delta) else base.weight
            )
    out: dict[str, Tensor] = {}
    for name, tensor in model.state_dict().items():
        if "lora_" in name:
            continue
        plain = _base_name(name)
        out[plain] = merged.get(plain, tensor)
    return out


def load_lora_checkpoint(
    base: nn.Module, checkpoint: str | Path, *, trainable: bool = True
) -> nn.Module:
    """The base model with the adapter saved in ``checkpoint`` (a folder holding adapter_config.json)."""
    peft = _peft()
    if not (Path(checkpoint) / ADAPTER_CONFIG).exists():
        raise FileNotFoundError(
            f"{checkpoint} holds no LoRA adapter ({ADAPTER_CONFIG}); it is not a LoRA checkpoint"
        )
    return peft.PeftModel.from_pretrained(base, str(checkpoint), is_trainable=trainable)


def is_adapter_checkpoint(checkpoint: str | Path) -> bool:
    """Whether ``checkpoint`` holds a LoRA adapter (a LoRA run's checkpoint) rather than a whole model."""
    return (Path(checkpoint) / ADAPTER_CONFIG).is_file()


def lora_policy(model: nn.Module, settings: LoraSettings, checkpoint: Path | None) -> Any:
    """The training policy: ``model`` with the adapter saved in ``checkpoint`` (resuming), else fresh adapters.

    A ``peft`` model, used wherever the plain model was (it forwards the model's attributes).
    """
    if checkpoint is not None:
        return load_lora_checkpoint(model, checkpoint)
    return apply_lora(model, settings)


def adapter_base_model(checkpoint: str | Path) -> str:
    """The base model an adapter checkpoint was trained on (as recorded by peft)."""
    data = json.loads((Path(checkpoint) / ADAPTER_CONFIG).read_text())
    base = data.get("base_model_name_or_path")
    if not base:
        raise ValueError(
            f"{checkpoint}/{ADAPTER_CONFIG} does not name its base model: pass base= explicitly"
        )
    return str(base)


def merged_model(
    checkpoint: str | Path,
    *,
    base: str | Path | None = None,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[Any, Any]:
    """(plain model with the adapter of ``checkpoint`` merged in, tokenizer), as ``load_policy`` returns.

    ``base`` defaults to the base model recorded in the adapter config (any name ``load_policy``
    accepts). Merging happens in float32; the result is then cast to ``dtype``.
    """
    from .model import load_policy

    base_name = str(base) if base is not None else adapter_base_model(checkpoint)
    base_model, tokenizer = load_policy(base_name, device="cpu", dtype=torch.float32)
    model: Any = load_lora_checkpoint(base_model, checkpoint, trainable=False)
    model = model.merge_and_unload().to(device=device, dtype=dtype)
    model.eval()
    return model, tokenizer


def export_merged(
    checkpoint: str | Path, out: str | Path, *, base: str | Path | None = None
) -> Path:
    """Write base + adapter of a LoRA ``checkpoint`` as one plain ``save_pretrained`` model at ``out``.

    The result loads with ``AutoModelForCausalLM.from_pretrained(out)``, no peft needed.
    """
    model, tokenizer = merged_model(checkpoint, base=base)
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
