"""Preflight checks before a long run (``grpo-gym doctor``): each failed check says how to fix it.

``run_checks`` looks at: library versions, the device and its memory, that the model loads, that its
chat template renders a generation prompt and keeps earlier turns as an exact token prefix (multi-turn
training re-renders the conversation each turn and depends on it), that each env resets and scores its
own reference reply at its maximum, that the output folder is writable with room for the
checkpoints, and a rough estimate of memory per training step for the given settings.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch

from .config import GRPOConfig
from .engines.vllm_settings import engine_dtype


@dataclass(frozen=True)
class Check:
    """One check's verdict; ``fix`` says what to do when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _versions() -> Check:
    found = []
    for name in ("torch", "transformers", "gymnasium", "vllm"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} not installed" if name == "vllm" else f"{name} MISSING")
    missing = [f for f in found if f.endswith("MISSING")]
    return Check(
        "versions",
        not missing,
        f"python {platform.python_version()}, " + ", ".join(found),
        "reinstall the project: pip install -e ." if missing else "",
    )


def available_memory(device: str) -> tuple[int, str]:
    """Free bytes on ``device`` (GPU memory, or the machine's available RAM) and a description."""
    if device.startswith("cuda"):
        free, total = torch.cuda.mem_get_info(torch.device(device))
        return (
            free,
            f"{torch.cuda.get_device_name(torch.device(device))}, {free / 2**30:.1f} of {total / 2**30:.1f} GiB free",
        )
    avail = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except OSError:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    return avail, f"CPU, {os.cpu_count()} cores, {avail / 2**30:.1f} GiB RAM available"


def _device(device: str) -> Check:
    if device.startswith("cuda") and not torch.cuda.is_available():
        return Check(
            "device",
            False,
            f"{device} asked for but CUDA is not available",
            "use --device cpu, or install a CUDA build of torch",
        )
    return Check("device", True, available_memory(device)[1])


def _chat_template(tokenizer: Any) -> Check:
    """A generation prompt renders, and each rendered turn is an exact token prefix of the next."""
    u1 = {"role": "user", "content": "What is 2 + 3?"}
    a1 = {"role": "assistant", "content": "<think>2 plus 3</think> The answer is \\boxed{5}."}
    u2 = {"role": "user", "content": "Check it once more."}

    def ids(conv: list[dict[str, str]], gen: bool) -> list[int]:
        text = tokenizer.apply_chat_template(conv, add_generation_prompt=gen, tokenize=False)
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    try:
        prompt, one, two = ids([u1], True), ids([u1, a1], False), ids([u1, a1, u2], True)
    except Exception as exc:  # a template that does not render at all
        return Check(
            "chat template",
            False,
            f"does not render: {type(exc).__name__}: {exc}",
            "give the tokenizer a chat_template (tokenizer.chat_template = ...) and save it with the model",
        )
    if len(prompt) >= len(one) or one[: len(prompt)] != prompt:
        return Check(
            "chat template",
            False,
            "the generation prompt is not a prefix of the rendered reply",
            "use a chat template whose add_generation_prompt output starts the assistant turn",
        )
    if two[: len(one)] != one:
        return Check(
            "chat template",
            False,
            "rendering a later turn changes earlier turns' tokens (e.g. strips reasoning)",
            "multi-turn training needs a template that keeps earlier turns verbatim: set tokenizer.chat_template",
        )
    return Check(
        "chat template",
        True,
        f"generation prompt ok; earlier turns are an exact token prefix ({len(two)} tokens)",
    )


def _env(env_id: str, kwargs: dict[str, Any]) -> Check:
    from grpo_gym.envs import make
    from grpo_gym.envs.checks import no_known_reference

    try:
        env = make(env_id, **kwargs)
        for seed in range(50):  # the first task with a reply known to follow it (IFBench: 65/288)
            _, info = env.reset(seed=seed)
            task = info.get("task")
            if task is None or not no_known_reference(task):
                break
        else:
            return Check(
                f"env {env_id}", True, "resets; no reply is known to follow its first 50 tasks"
            )
        reference = info.get("reference")
        if reference is None:
            return Check(
                f"env {env_id}",
                False,
                "reset gives no info['reference']",
                "have the env's reference() return a reply",
            )
        _, reward, *_ = env.step(reference)
        best = float(getattr(env.unwrapped, "max_reward", 1.0))
    except Exception as exc:
        return Check(
            f"env {env_id}",
            False,
            f"{type(exc).__name__}: {exc}",
            f"run `grpo-gym envs check {env_id}` and fix the env (or its --env-kwargs)",
        )
    if not float(reward) >= best - 1e-6:
        return Check(
            f"env {env_id}",
            False,
            f"its own reference scores {reward}, below its max_reward {best}",
            f"fix the env's scorer or reference (`grpo-gym envs check {env_id}`)",
        )
    return Check(
        f"env {env_id}", True, f"reset and its reference scores {float(reward):g} (the maximum)"
    )


def lora_trainable_params(model: Any, settings: Any) -> int:
    """Parameters LoRA adds (and trains) on ``model``: r x (in + out) per targeted linear layer."""
    targets = set(settings.lora_target_modules)
    total = 0
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if not isinstance(module, torch.nn.Linear) or weight is None or name.endswith("lm_head"):
            continue
        if "all-linear" in targets or name.rsplit(".", 1)[-1] in targets:
            total += settings.lora_r * (module.in_features + module.out_features)
    return total


def estimate_step_bytes(
    cfg: GRPOConfig,
    n_params: int,
    hidden: int,
    layers: int,
    vocab: int,
    prompt_tokens: int = 256,
    trainable: int | None = None,
    device: str | None = None,
) -> dict[str, int]:
    """Rough memory of one training step (the order of magnitude, not a promise).

    fp32 weights; gradients and the two AdamW moments of the ``trainable`` parameters (all of
    them, or LoRA's adapters); the frozen reference (none with LoRA: its adapter-off model is the
    reference, nor with beta = 0); activations and logits of one micro-batch; and with the vLLM
    engine its copy of the weights (in its dtype) plus, on CPU, its KV cache.
    """
    trainable = n_params if trainable is None else trainable
    seq = prompt_tokens + cfg.sampling.max_new_tokens
    reference = n_params * 4 if cfg.beta > 0 and not cfg.lora.enabled else 0
    states = n_params * 4 + trainable * 4 * 3 + reference
    acts = (
        cfg.micro_batch_size * seq * hidden * layers * 4 * (2 if cfg.gradient_checkpointing else 16)
    )
    logits = cfg.micro_batch_size * seq * vocab * 4 * 3  # logits, log-softmax, its gradient
    engine = 0
    if cfg.sampling.engine == "vllm":
        device = device or cfg.device
        cuda = device.startswith("cuda")
        engine = n_params * (4 if engine_dtype(cfg.vllm.vllm_dtype, device) == "float32" else 2)
        engine += 0 if cuda else int(cfg.vllm.vllm_kv_cache_gib * 2**30)
    out = {"weights_and_optimizer": states, "activations": acts, "logits": logits}
    if engine:
        out["vllm_engine"] = engine
    out["total"] = sum(out.values())
    return out


def memory_check(cfg: GRPOConfig, model: Any, device: str) -> Check:
    """The step's estimated memory (``estimate_step_bytes``) against what ``device`` has free."""
    mc = model.config
    n_params = sum(p.numel() for p in model.parameters())
    lora = lora_trainable_params(model, cfg.lora) if cfg.lora.enabled else None
    est = estimate_step_bytes(
        cfg,
        n_params,
        getattr(mc, "hidden_size", 0),
        getattr(mc, "num_hidden_layers", 0),
        getattr(mc, "vocab_size", 0),
        trainable=lora,
        device=device,
    )
    free, _ = available_memory(device)
    parts = ", ".join(f"{k} {v / 2**30:.2f}" for k, v in est.items() if k != "total")
    trained = "" if lora is None else f" ({lora / 1e6:.2f}M LoRA parameters trained)"
    detail = f"about {est['total'] / 2**30:.2f} GiB per step ({parts} GiB) for {n_params / 1e6:.0f}M parameters{trained}; {free / 2**30:.1f} GiB free"
    if free and est["total"] > free:
        return Check(
            "memory per step",
            False,
            detail,
            "lower --micro-batch-size or --max-new-tokens, set --gradient-checkpointing true, or --beta 0 (no reference)",
        )
    return Check("memory per step", True, detail)


def _output_dir(cfg: GRPOConfig, model: Any | None) -> Check:
    out = Path(cfg.output_dir)
    if out.exists() and not out.is_dir():
        return Check("output folder", False, f"{out} is a file", "choose a folder for --output-dir")
    probe = out
    while not probe.exists():
        probe = probe.parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe):
            pass
    except OSError as exc:
        return Check(
            "output folder",
            False,
            f"cannot write in {probe}: {exc.strerror}",
            "make it writable or choose another --output-dir",
        )
    free = shutil.disk_usage(probe).free
    need = 0
    if (
        model is not None
    ):  # weights + two AdamW moments (+ a reference copy) per checkpoint, keep + 1 at a time
        need = (
            sum(p.numel() * p.element_size() for p in model.parameters())
            * 3
            * (cfg.keep_checkpoints + 1)
        )
    detail = f"{out} writable, {free / 1e9:.1f} GB free" + (
        f", about {need / 1e9:.1f} GB needed for checkpoints" if need else ""
    )
    if need > free:
        return Check(
            "output folder",
            False,
            detail,
            "free some space, lower --keep-checkpoints or choose another --output-dir",
        )
    return Check("output folder", True, detail)


def run_checks(
    cfg: GRPOConfig, *, load_model: bool = True, echo: Callable[[Check], None] | None = None
) -> list[Check]:
    """Every check for ``cfg`` (its model, envs, device, output folder), in order; ``echo`` sees each as it ends."""
    from .model import ModelLoadError, default_device, load_policy

    device = default_device() if cfg.device == "auto" else cfg.device
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        if echo is not None:
            echo(check)

    add(_versions())
    add(_device(device))
    model = None
    if load_model and checks[-1].ok:
        try:
            model, tokenizer = load_policy(cfg.model, device=device, dtype=torch.float32)
            add(
                Check(
                    "model",
                    True,
                    f"{cfg.model} loads ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters)",
                )
            )
            add(_chat_template(tokenizer))
            add(memory_check(cfg, model, device))
        except ModelLoadError as exc:
            add(
                Check(
                    "model",
                    False,
                    str(exc),
                    "pass --model with a local folder, a .gguf file or smollm2-135m",
                )
            )
    kwargs = cfg.parsed_env_kwargs()
    for env_id in cfg.env:
        add(_env(env_id, kwargs.get(env_id, {})))
    add(_output_dir(cfg, model))
    return checks


__all__: Sequence[str] = ("Check", "estimate_step_bytes", "memory_check", "run_checks")
