"""``EvalConfig``: what ``evaluate`` scores and how; the ``grpo-gym eval`` flags come from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .engines.vllm_settings import VLLMSettings
from .fieldhelp import help_text
from .model import DEFAULT_MODEL
from .passk import default_ks
from .sampling import SamplingConfig

ALL_PROBLEMS = -1  # --problems all: every test problem of a finite benchmark, each once


def parse_problems(text: str) -> int:
    """``--problems`` value: a count, or ``all``."""
    return ALL_PROBLEMS if text.strip().lower() == "all" else int(text)


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and how; the ``grpo-gym eval`` flags are generated from these fields."""

    model: str = field(
        default=DEFAULT_MODEL,
        metadata=help_text(
            "model: 'smollm2-135m', a .gguf file, a local folder, a checkpoint or a hub id; "
            "with --engine openai, the name the server serves"
        ),
    )
    env: tuple[str, ...] = field(
        default=(),
        metadata=help_text(
            "env id to evaluate; repeat the flag or give a comma list; 'module:Name-v0' imports module first"
        ),
    )
    suite: Literal["all", "builtin"] | None = field(
        default=None,
        metadata=help_text("'all' = every registered env, 'builtin' = the grpo_gym/ suite"),
    )
    problems: int = field(
        default=32,
        metadata={
            **help_text(
                "P: test-split problems per env; 'all' = every test problem of a benchmark env, each once"
            ),
            "parse": parse_problems,
        },
    )
    n: int = field(
        default=8, metadata=help_text("N: samples per problem (forced to 1 at temperature 0)")
    )
    k: tuple[int, ...] = field(
        default=(),
        metadata=help_text(
            "k values for pass@k, comma-separated, each <= n (default: 1, powers of 2 below n, n)"
        ),
    )
    sampling: SamplingConfig = field(
        default_factory=SamplingConfig,
        metadata=help_text("how replies are sampled (temperature 0 = greedy, then n = 1)"),
    )
    vllm: VLLMSettings = field(
        default_factory=VLLMSettings,
        metadata=help_text("the vLLM engine's settings (with --engine vllm)"),
    )
    seed: int = field(
        default=0, metadata=help_text("eval seed: decides the problems and the sampling")
    )
    batch_size: int = field(
        default=16, metadata=help_text("problems per batched generate call (x n replies)")
    )
    device: str = field(
        default="auto", metadata=help_text("auto (CUDA if available), cpu, cuda, cuda:1 ...")
    )
    dtype: str = field(
        default="auto", metadata=help_text("auto (bf16 on CUDA, fp32 on CPU), float32, bfloat16")
    )
    json_out: str | None = field(
        default=None, metadata=help_text("write the JSON report (results + provenance) here")
    )
    md_out: str | None = field(
        default=None, metadata=help_text("write the Markdown report here (plots go beside it)")
    )
    samples_out: str | None = field(
        default=None,
        metadata=help_text("write every sample (prompt, reply, reward, pass) as JSONL here"),
    )
    plots: Literal["auto", "on", "off"] = field(
        default="auto",
        metadata=help_text("PNG plots beside --md-out: auto = if matplotlib is installed"),
    )
    training_metrics: str | None = field(
        default=None,
        metadata=help_text("a run's metrics.jsonl: add its training curve to the Markdown report"),
    )
    strict: bool = field(
        default=False, metadata=help_text("re-raise env/reward errors instead of scoring them 0")
    )
    env_kwargs: str = field(
        default="",
        metadata=help_text(
            'JSON settings for the envs, as in train: {"digits": 2} for one env, or {"ENV_ID": {...}} per env'
        ),
    )
    system_prompt: str = field(
        default="", metadata=help_text("system prompt replacing the env's own ('' = use the env's)")
    )
    progress: bool = field(
        default=True,
        metadata=help_text("show a progress bar per env (problems done, running pass rate)"),
    )
    notes: tuple[str, ...] = field(default=(), init=False, metadata={"cli": False})

    def __post_init__(self) -> None:
        def fail(msg: str) -> None:
            raise ValueError(msg)

        for name in ("n", "batch_size"):
            if getattr(self, name) < 1:
                fail(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.problems < 1 and self.problems != ALL_PROBLEMS:
            fail(f"problems must be >= 1 (or 'all'), got {self.problems}")
        if isinstance(self.sampling, dict):  # from JSON
            object.__setattr__(self, "sampling", SamplingConfig(**self.sampling))
        if isinstance(self.vllm, dict):
            object.__setattr__(self, "vllm", VLLMSettings(**self.vllm))
        if isinstance(self.env, str):
            object.__setattr__(
                self, "env", tuple(e.strip() for e in self.env.split(",") if e.strip())
            )
        object.__setattr__(self, "k", tuple(self.k))
        if any(k < 1 for k in self.k):
            fail(f"every k must be >= 1, got k={','.join(map(str, self.k))}")
        notes: list[str] = []
        if self.sampling.temperature == 0 and self.n != 1:
            notes.append(
                f"temperature 0 is greedy decoding, so every sample would be the same: n set to 1 (was {self.n}); only pass@1 is reported"
            )
            object.__setattr__(self, "n", 1)
        elif self.sampling.temperature > 0:
            too_big = [k for k in self.k if k > self.n]
            if too_big:
                fail(
                    f"pass@{too_big[0]} needs at least {too_big[0]} samples per problem but n={self.n}: "
                    f"set n={max(too_big)} or leave {','.join(map(str, too_big))} out of k="
                )
        object.__setattr__(self, "notes", tuple(notes))

    @property
    def ks(self) -> tuple[int, ...]:
        """The k values reported (the asked ones that fit in n, or the defaults)."""
        if not self.k:
            return default_ks(self.n)
        return tuple(sorted({k for k in self.k if k <= self.n})) or (1,)
