"""``GRPOConfig``: every training setting, validated once; the ``grpo-gym train`` flags come from it."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from .distributed import DistributedConfig
from .engines.vllm_settings import VLLMSettings
from .logprobs import LogprobImpl
from .lora import LoraSettings
from .loss import AdvantageScale, LossType, RatioLevel
from .sampling import SamplingConfig
from .trackers import ReportTo, tracker_problem

# Old flat names of the sampling settings (run folders and config files written before they
# were nested): ``from_dict`` moves them into ``sampling``.
_SAMPLING_FIELDS = {f.name for f in dataclasses.fields(SamplingConfig)}
_ENV_ID = re.compile(r"-v\d+$")


def parse_env_kwargs(text: str, envs: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``--env-kwargs`` JSON as {env_id: kwargs}: one env's settings, or ``{"ENV_ID": {...}}`` per env."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"env_kwargs is not valid JSON ({exc}): e.g. '{{\"digits\": 1}}'"
        ) from None
    if not isinstance(data, dict):
        raise ValueError("env_kwargs must be a JSON object")
    keyed = {k: env for k in data if (env := _matching_env(k, envs)) is not None}
    if data and len(keyed) == len(data):  # {"ENV_ID": {...}}, ids full or without the namespace
        if not all(isinstance(v, dict) for v in data.values()):
            raise ValueError("per-env env_kwargs must map each env id to a JSON object")
        return {keyed[k]: v for k, v in data.items()}
    strays = [k for k in data if _ENV_ID.search(k)]
    if strays:
        raise ValueError(
            f"env_kwargs key {strays[0]!r} looks like an env id but is not one of the envs "
            f"{list(envs)}: key each env's settings by an id given in env"
        )
    if len(envs) != 1:
        raise ValueError(
            'with several envs (or none named), env_kwargs must be keyed by env id: {"ENV_ID": {...}}'
        )
    return {envs[0]: data}


def _matching_env(key: str, envs: tuple[str, ...]) -> str | None:
    """The entry of ``envs`` that ``key`` names (``ns/Name-v0`` or just ``Name-v0``), if any."""
    short = key.rsplit("/", 1)[-1]
    return next((e for e in envs if e == key or e.rsplit("/", 1)[-1] == short), None)


def _h(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class GRPOConfig:
    """GRPO training configuration (DeepSeekMath defaults unless noted)."""

    # what to train
    model: str = field(
        default="smollm2-135m",
        metadata=_h(
            "model: 'smollm2-135m', a .gguf file, a local folder, a checkpoint or a hub id"
        ),
    )
    env: tuple[str, ...] = field(
        default=("grpo_gym/Arithmetic-v0",),
        metadata=_h(
            "env id(s), comma-separated; several = a mixture; 'module:Name-v0' imports module first (an env your own code registers)"
        ),
    )
    env_weights: tuple[float, ...] = field(
        default=(), metadata=_h("mixture weights, one per env (default: equal)")
    )
    env_kwargs: str = field(
        default="",
        metadata=_h(
            'JSON kwargs for gymnasium.make: {"digits": 1} for one env, or {"ENV_ID": {...}} per env'
        ),
    )
    # the batch
    steps: int = field(default=50, metadata=_h("optimizer steps"))
    prompts_per_step: int = field(default=4, metadata=_h("B: prompts drawn per step"))
    group_size: int = field(default=8, metadata=_h("G: replies sampled per prompt"))
    sampling: SamplingConfig = field(
        default_factory=SamplingConfig,
        metadata=_h("how replies are sampled (temperature > 0 for training)"),
    )
    vllm: VLLMSettings = field(
        default_factory=VLLMSettings,
        metadata=_h("the vLLM engine's settings (with sampling.engine = vllm)"),
    )
    distributed: DistributedConfig = field(
        default_factory=DistributedConfig,
        metadata=_h("several processes under torchrun: DDP or FSDP2 (agent/distributed.py)"),
    )
    system_prompt: str = field(
        default="", metadata=_h("system prompt replacing the env's own ('' = use the env's)")
    )
    lora: LoraSettings = field(
        default_factory=LoraSettings,
        metadata=_h("LoRA adapters (peft) instead of training every weight (lora_r > 0)"),
    )
    # the objective
    beta: float = field(default=0.04, metadata=_h("KL coefficient; 0 = no reference model at all"))
    eps_low: float = field(default=0.2, metadata=_h("lower clip range 1 - eps_low"))
    eps_high: float = field(
        default=0.2, metadata=_h("upper clip range 1 + eps_high (DAPO clip-higher: 0.28)")
    )
    loss_type: LossType = field(
        default="grpo",
        metadata=_h("aggregation: grpo (per-reply mean), bnpo (token mean), dr_grpo"),
    )
    ratio_level: RatioLevel = field(
        default="token", metadata=_h("importance ratio per token, or per sequence (GSPO)")
    )
    adv_scale: AdvantageScale = field(
        default="group", metadata=_h("advantage std scaling: group, batch, none (Dr. GRPO)")
    )
    mu: int = field(
        default=1,
        metadata=_h(
            "optimisation passes over each sampled batch: mu in DeepSeekMath Alg. 1 (TRL's num_iterations)"
        ),
    )
    mask_truncated: bool = field(
        default=False, metadata=_h("no loss on replies cut at max_new_tokens")
    )
    truncated_reward: Literal["explicit", "zero"] = field(
        default="explicit",
        metadata=_h(
            "how training scores replies cut at max_new_tokens: explicit (only a finished, "
            "explicit final answer counts, never the last number) or zero (DAPO overlong filtering)"
        ),
    )
    overlong_penalty: int = field(
        default=0, metadata=_h("DAPO soft overlong penalty buffer in tokens (0 = off)")
    )
    dynamic_sampling: bool = field(
        default=False, metadata=_h("DAPO: drop groups with equal rewards, draw more prompts")
    )
    max_sampling_rounds: int = field(
        default=3, metadata=_h("cap on extra draw rounds with dynamic sampling")
    )
    curriculum_every: int = field(
        default=0,
        metadata=_h(
            "every N steps, move each env one difficulty level up (pass rate >= 0.8) or down (< 0.2); 0 = off"
        ),
    )
    ref_sync_every: int = field(
        default=0, metadata=_h("copy the policy into the reference every N steps (0 = never)")
    )
    tis_cap: float = field(
        default=0.0,
        metadata=_h(
            "truncated importance sampling: weight each token's surrogate by min(pi_old / pi_engine, cap) for the engine/policy mismatch (vLLM engine; 0 = off, 2 is usual)"
        ),
    )
    # the optimiser
    lr: float = field(default=1e-6, metadata=_h("AdamW learning rate"))
    weight_decay: float = field(default=0.0, metadata=_h("AdamW weight decay"))
    warmup_steps: int = field(default=0, metadata=_h("linear warm-up steps"))
    lr_schedule: Literal["constant", "cosine"] = field(
        default="constant", metadata=_h("after warm-up")
    )
    max_grad_norm: float = field(default=1.0, metadata=_h("gradient clipping (0 = off)"))
    micro_batch_size: int = field(
        default=8, metadata=_h("sequences per forward/backward (gradient accumulation)")
    )
    gradient_checkpointing: bool = field(default=False, metadata=_h("trade compute for memory"))
    # where and how
    device: str = field(
        default="auto", metadata=_h("auto (CUDA if available), cpu, cuda, cuda:1 ...")
    )
    threads: int = field(
        default=0,
        metadata=_h("CPU threads for torch (0 = one per core that other processes leave free)"),
    )
    dtype: str = field(
        default="auto", metadata=_h("auto (bf16 autocast on CUDA, fp32 on CPU), float32, bfloat16")
    )
    logprobs: LogprobImpl = field(
        default="fast",
        metadata=_h(
            "completion log-probs: fast (agent/fast, same values) or plain (forward + log_softmax + gather, the definition)"
        ),
    )
    keep_cpu_memory: bool = field(
        default=True,
        metadata=_h(
            "CPU: keep freed memory for reuse instead of page-faulting big tensors in each step (faster; resident memory stays at its peak until the run ends)"
        ),
    )
    seed: int = field(default=0, metadata=_h("seed for prompts, sampling and init"))
    output_dir: str = field(
        default="runs/grpo", metadata=_h("checkpoints, metrics.jsonl, samples.jsonl")
    )
    save_every: int = field(
        default=50,
        metadata=_h(
            "checkpoint every N steps, or every save_every_minutes, whichever comes first (0 = no step bound)"
        ),
    )
    save_every_minutes: float = field(
        default=15.0,
        metadata=_h(
            "checkpoint when this many minutes have passed since the last one (0 = no time bound; with save_every 0 too, only at the end)"
        ),
    )
    keep_checkpoints: int = field(default=2, metadata=_h("how many recent checkpoints to keep"))
    resume: bool = field(
        default=False,
        metadata=_h(
            "continue from the newest complete checkpoint in output_dir (an error if it has none)"
        ),
    )
    eval_every: int = field(
        default=0, metadata=_h("evaluate on the test split every N steps (0 = off)")
    )
    eval_before_after: bool = field(
        default=True, metadata=_h("evaluate held-out pass rate before and after training")
    )
    eval_problems: int = field(default=32, metadata=_h("held-out problems per env for evaluation"))
    eval_temperature: float = field(
        default=0.0, metadata=_h("evaluation temperature (0 = greedy pass@1)")
    )
    sample_every: int = field(
        default=10, metadata=_h("write sample replies to samples.jsonl every N steps")
    )
    strict_rewards: bool = field(
        default=False, metadata=_h("a reward/env error stops training (for debugging envs)")
    )
    score_timeout_s: float = field(
        default=120.0,
        metadata=_h(
            "watchdog: wall-time bound in seconds on one env reset or step (scoring) call; past it the env, seed and stack are reported (0 = no bound)"
        ),
    )
    on_stuck: Literal["skip", "abort"] = field(
        default="skip",
        metadata=_h(
            "an env call past score_timeout_s: skip (score 0, counted in reward_errors/reward_timeouts) or abort the run"
        ),
    )
    progress: bool = field(default=True, metadata=_h("show a progress bar"))
    report_to: ReportTo = field(
        default="none",
        metadata=_h(
            "tracker for the metrics and the run's config: none (metrics.jsonl only), tensorboard (event files in output_dir/tb; extra [tensorboard]) or wandb (offline into output_dir/wandb unless WANDB_MODE or WANDB_API_KEY is set; extra [wandb])"
        ),
    )

    def __post_init__(self) -> None:
        def bad(msg: str) -> None:
            raise ValueError(msg)

        if not self.env:
            bad(
                "no env given: name one, e.g. env=grpo_gym/Arithmetic-v0 (see `grpo-gym envs list`)"
            )
        if self.env_weights and len(self.env_weights) != len(self.env):
            bad(
                f"{len(self.env_weights)} env_weights for {len(self.env)} envs: give one weight per env or none"
            )
        if any(w < 0 for w in self.env_weights) or (
            self.env_weights and sum(self.env_weights) <= 0
        ):
            bad("env_weights must be >= 0 with a positive sum")
        self.parsed_env_kwargs()  # validates the JSON
        if self.group_size < 2:
            bad(
                f"group_size={self.group_size}: GRPO needs >= 2 replies per prompt for a group-relative advantage"
            )
        for name in (
            "steps",
            "prompts_per_step",
            "mu",
            "micro_batch_size",
            "eval_problems",
            "keep_checkpoints",
            "max_sampling_rounds",
        ):
            if getattr(self, name) < 1:
                bad(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in (
            "warmup_steps",
            "save_every",
            "eval_every",
            "sample_every",
            "ref_sync_every",
            "overlong_penalty",
            "curriculum_every",
            "threads",
        ):
            if getattr(self, name) < 0:
                bad(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("save_every_minutes", "score_timeout_s"):
            if getattr(self, name) < 0:
                bad(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.on_stuck not in ("skip", "abort"):
            bad(f"on_stuck={self.on_stuck!r}: use skip or abort")
        if self.truncated_reward not in ("explicit", "zero"):
            bad(f"truncated_reward={self.truncated_reward!r}: use explicit or zero")
        if isinstance(self.sampling, dict):  # from JSON
            object.__setattr__(self, "sampling", SamplingConfig(**self.sampling))
        if self.sampling.engine == "openai":
            bad(
                "engine openai samples from a server (no token ids, no weights to update), so it only "
                "evaluates (grpo-gym eval --engine openai): train with --engine hf or vllm"
            )
        if self.sampling.temperature <= 0:
            bad(
                f"temperature={self.sampling.temperature}: training samples need temperature > 0 (greedy replies in a group are identical)"
            )
        if self.beta < 0:
            bad(f"beta must be >= 0, got {self.beta}")
        if not (0 < self.eps_low < 1) or self.eps_high <= 0:
            bad(
                f"clip ranges must satisfy 0 < eps_low < 1 and eps_high > 0, got {self.eps_low}, {self.eps_high}"
            )
        if self.lr <= 0:
            bad(f"lr must be > 0, got {self.lr}")
        if self.overlong_penalty >= self.sampling.max_new_tokens:
            bad(
                f"overlong_penalty={self.overlong_penalty} must be < max_new_tokens={self.sampling.max_new_tokens}"
            )
        if self.tis_cap < 0 or 0 < self.tis_cap < 1:
            bad(f"tis_cap={self.tis_cap}: use 0 (off) or a cap >= 1 (2 is usual)")
        if self.ref_sync_every and self.beta == 0:
            bad("ref_sync_every needs a reference model: set beta > 0, or drop ref_sync_every")
        if isinstance(self.lora, dict):  # from JSON
            object.__setattr__(self, "lora", LoraSettings(**self.lora))
        if self.ref_sync_every and self.lora.enabled:
            bad(
                "ref_sync_every copies the policy into the reference, but with LoRA the reference is "
                "the base model (adapters off): drop ref_sync_every or set lora_r 0"
            )
        if self.dtype in ("float16", "fp16"):
            bad(
                "dtype float16 trains without loss scaling and underflows: use bfloat16 (autocast over fp32 weights) or float32"
            )
        if self.dtype not in ("auto", "float32", "bfloat16", "fp32", "bf16"):
            bad(f"dtype {self.dtype!r}: use auto, float32 or bfloat16")
        problem = tracker_problem(self.report_to)
        if problem:
            bad(problem)

    def parsed_env_kwargs(self) -> dict[str, dict[str, Any]]:
        """``env_kwargs`` as {env_id: kwargs}."""
        return parse_env_kwargs(self.env_kwargs, self.env)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GRPOConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        data = dict(data)
        flat = {k: data.pop(k) for k in list(data) if k in _SAMPLING_FIELDS}  # the old flat layout
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown GRPOConfig fields {unknown}")
        fixed: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        sampling = fixed.get("sampling", {})
        if isinstance(sampling, SamplingConfig):
            sampling = dataclasses.asdict(sampling)
        fixed["sampling"] = SamplingConfig(**{**sampling, **flat})
        if isinstance(fixed.get("vllm"), dict):
            fixed["vllm"] = VLLMSettings(**fixed["vllm"])
        if isinstance(fixed.get("distributed"), dict):
            fixed["distributed"] = DistributedConfig(**fixed["distributed"])
        if isinstance(fixed.get("lora"), dict):
            lora: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in fixed["lora"].items()
            }
            fixed["lora"] = LoraSettings(**lora)
        return cls(**fixed)
