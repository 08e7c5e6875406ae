"""A torchrun worker for tests/test_distributed.py: runs GRPO configs with a scripted engine.

    python -m torch.distributed.run --nproc-per-node N tests/dist_worker.py JOBS.json

JOBS.json holds ``{"jobs": [GRPOConfig dicts], "fault": {...} | null}``. Replies come from
``ScriptedEngine``: a fixed function of (prompt, reply index), so a 1-process and an N-process
run of the same global batch train on identical samples and must end with equal weights. The
real transformers engine is exercised by the CLI test instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tests.fixture_envs  # noqa: F401  (registers grpo_gym_test/*)
from grpo_gym.agent import step as step_module
from grpo_gym.agent import trainer
from grpo_gym.agent.config import GRPOConfig
from grpo_gym.agent.sampling import Conversation, Generation, SamplingConfig

REPLIES = ("aaaa", "aab", "a b a", "bbb", "aaaaaa", "xa")


class ScriptedEngine:
    """Replies chosen by a hash of (prompt, index); one prompt in three gets G equal replies."""

    def __init__(self, tokenizer, config: SamplingConfig) -> None:
        self.tokenizer, self.config = tokenizer, config

    def generate(self, conversations: Sequence[Conversation], n: int = 1) -> Generation:
        tok = self.tokenizer
        prompts, replies = [], []
        for conv in conversations:
            text = tok.apply_chat_template(list(conv), add_generation_prompt=True, tokenize=False)
            h = int(hashlib.sha256(text.encode()).hexdigest(), 16)
            for j in range(n):
                prompts.append(tok(text, add_special_tokens=False)["input_ids"])
                replies.append(REPLIES[0] if h % 3 == 0 else REPLIES[(h >> (4 * j)) % len(REPLIES)])
        ids = [tok(r, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for r in replies]
        P, T = max(len(p) for p in prompts), max(len(c) for c in ids)
        prompt_ids = torch.full((len(ids), P), tok.pad_token_id)
        prompt_mask = torch.zeros((len(ids), P), dtype=torch.long)
        comp = torch.full((len(ids), T), tok.pad_token_id)
        comp_mask = torch.zeros((len(ids), T), dtype=torch.long)
        for i, (p, c) in enumerate(zip(prompts, ids, strict=True)):
            prompt_ids[i, P - len(p) :], prompt_mask[i, P - len(p) :] = torch.tensor(p), 1
            comp[i, : len(c)], comp_mask[i, : len(c)] = torch.tensor(c), 1
        truncated = torch.zeros(len(ids), dtype=torch.bool)
        return Generation(prompt_ids, prompt_mask, comp, comp_mask, truncated, replies)

    def sync_weights(self, model: torch.nn.Module) -> None:
        """Scripted: nothing follows the weights."""

    def close(self) -> None:
        """Nothing to release."""

    def __call__(self, conversations: Sequence[Conversation], n: int = 1) -> list[str]:
        return self.generate(conversations, n).texts


def _scripted(model, tokenizer, sampling, vllm=None, seed=0):  # make_engine's signature
    return ScriptedEngine(tokenizer, sampling)


def _inject(fault: dict) -> None:
    """Make one rank die (``exit``) or hang (``hang``) when it reaches ``fault["step"]``."""
    real = step_module.grpo_step

    def faulty(cfg, engine, envs, learner, step, pad_id, world):
        if world.rank == fault["rank"] and step + 1 == fault["step"]:
            if fault["kind"] == "exit":
                os._exit(3)
            time.sleep(3600)
        return real(cfg, engine, envs, learner, step, pad_id, world)

    trainer.grpo_step = faulty  # type: ignore[assignment]


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    trainer.make_engine = _scripted  # type: ignore[assignment]
    if spec.get("fault"):
        _inject(spec["fault"])
    for job in spec["jobs"]:
        cfg = GRPOConfig.from_dict(job)
        result = trainer.train(cfg, echo=lambda s: print(s, flush=True))
        if result.eval_after is not None and int(os.environ.get("RANK", "0")) == 0:
            report = {
                r.env_id: {"problems": r.problems, "pass": r.pass_at_k[1], "reward": r.reward_mean}
                for r in result.eval_after.results
            }
            (Path(cfg.output_dir) / "eval_report.json").write_text(json.dumps(report))
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
