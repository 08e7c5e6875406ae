"""Grader agreement on hand-labelled benchmark replies (issue 30): how often our math scorer and
the reference graders call a reply correct that is wrong (FP), or wrong that is correct (FN).

Run (from the repository root; needs only the project venv):

    .venv/bin/python benchmarks/grader_agreement.py

It reads the labelled set ``benchmarks/data/labelled-replies.jsonl``, re-scores every row with
our current scorer (the env's ``score_reply`` on ``Reply(reply, finish_reason)``, the task
rebuilt from the env with the row's seed), and writes ``benchmarks/results/grader-agreement.json``:
per benchmark (GSM8K-v0, GSM8KFewShot-v0, MATH500-v0) and per grader, the false positives and
false negatives against the hand labels, with the rows' ids; the machine; the versions.

The graders: ``ours`` (the scorer as it is now), ``ours-old`` (the ``reward`` committed with the
replies), and the references, whose verdicts are stored in the JSONL (so the default run needs
no reference package): math-verify 0.9.0 (``verify(parse('$gold$'), parse(reply))``);
lm-eval-harness 0.4.13's gsm8k ``strict-match`` and ``flexible-extract`` filters with the task's
``exact_match`` settings, read from the installed ``gsm8k.yaml``, and its ``minerva_math``
``exact_match`` (``get_unnormalized_answer`` / ``normalize_final_answer`` / ``is_equiv``) and
``math_verify`` metrics from its ``utils.py``, each on the reply cut at the task's ``until``
strings (``Question:``, ``Problem:``) as lm-eval's generation would stop there; the Qwen2.5-Math
grader (``evaluation/parser.py`` ``run_execute``/``extract_answer`` for the ``cot`` prompt, whose
stop words include ``\\n\\nQuestion:``, and ``grader.py`` ``math_equal`` under a 3 s pebble
timeout, as its ``evaluate.py`` does). math-verify gets the whole reply (it has no harness).

To re-run the references too (they are never project dependencies; install them apart):

    python3 -m venv /tmp/graders-venv
    /tmp/graders-venv/bin/pip install math-verify==0.9.0 antlr4-python3-runtime==4.11.0 \\
        numpy sacrebleu pyyaml typing_extensions
    /tmp/graders-venv/bin/pip install --no-deps lm-eval==0.4.13
    python3 -m venv /tmp/qwen-venv      # Qwen2.5-Math pins sympy 1.12 and antlr 4.11.1
    /tmp/qwen-venv/bin/pip install sympy==1.12 antlr4-python3-runtime==4.11.1 regex \\
        word2number pebble numpy
    /tmp/qwen-venv/bin/pip install --no-deps -e <Qwen2.5-Math>/evaluation/latex2sympy
    .venv/bin/python benchmarks/grader_agreement.py --reference-venv /tmp/graders-venv \\
        --qwen-venv /tmp/qwen-venv --qwen-dir <Qwen2.5-Math>/evaluation

Then the references' verdicts are recomputed (any change from the stored ones is reported) and
the result uses the fresh ones. ``--rebuild`` (with the reference options) re-scores every reply
of the committed samples files and rewrites the JSONL with every reply that any grader calls
correct (which includes every reply the graders disagree on), keeping the hand labels of rows
already labelled; new rows get ``hand_label: null`` until someone reads them.

Hand labels judge the final answer the reply states (wrong working with a right stated answer is
correct, as every grader here assumes), strictly: a reply cut at max_new_tokens whose last
number is a fragment is wrong; a stated answer in the wrong unit ("10 cents" for $10) is wrong;
a reply that restates the expression the problem asks to transform is wrong; for the 5-shot
env only the reply up to the first ``Question:`` counts (lm-eval stops generation there). Rows
that no grader calls correct are not in the set: a correct reply that every grader misses is
not counted as anyone's false negative.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
LABELLED = ROOT / "benchmarks" / "data" / "labelled-replies.jsonl"
OUT = RESULTS / "grader-agreement.json"
SOURCES = (
    "gsm8k-300-smollm2-135m-vllm",
    "gsm8k-5shot-300-smollm2-135m-vllm",
    "math500-smollm2-135m-vllm",
    "learning-gsm8k-v0-smollm2-135m-10steps.after",
    "learning-gsm8k-v0-smollm2-135m-10steps-512tok.after",
    "learning-gsm8k-v0-smollm2-135m-10steps-mask-truncated.after",
)
BENCHMARKS = {
    "grpo_gym/GSM8K-v0": "gsm8k",
    "grpo_gym/GSM8KFewShot-v0": "gsm8k-5shot",
    "grpo_gym/MATH500-v0": "math500",
}
GSM8K_REFERENCES = ("math-verify", "lm-eval/gsm8k-strict-match", "lm-eval/gsm8k-flexible-extract")
MATH_REFERENCES = (
    "math-verify",
    "lm-eval/minerva_math-exact_match",
    "lm-eval/minerva_math-math_verify",
)
QWEN = "qwen2.5-math"
# What computed the reference verdicts stored in the JSONL (``--rebuild``); a run with
# ``--reference-venv`` reports the versions it finds instead.
STORED_REFERENCES = {
    "math-verify": "0.9.0 (latex2sympy2_extended 1.11.0, sympy 1.14.0, antlr4 4.11.0)",
    "lm-eval": "0.4.13 (tasks/gsm8k/gsm8k.yaml, tasks/minerva_math/utils.py; installed --no-deps)",
    "qwen2.5-math": "github.com/QwenLM/Qwen2.5-Math a45202bd16f1ec06f433442dc1152d0074773465 "
    "evaluation/{parser,grader}.py (sympy 1.12, antlr4 4.11.1, its latex2sympy2 1.9.0)",
}
QWEN_STOP = ("</s>", "<|im_end|>", "<|endoftext|>", "\n\nQuestion:")  # math_eval.py, prompt "cot"


def references_for(benchmark: str) -> tuple[str, ...]:
    """The reference graders that apply to a benchmark's rows."""
    return (*(MATH_REFERENCES if benchmark == "math500" else GSM8K_REFERENCES), QWEN)


# --------------------------------------------------------------------------------------------
# Reference graders. These functions run inside the reference venvs (``--reference-worker``):
# stdlib and the reference packages only, nothing from grpo_gym.


def _cut(text: str, stops: list[str] | tuple[str, ...]) -> str:
    for stop in stops:
        if stop:
            text = text.split(stop)[0]
    return text


def _lm_eval_graders() -> tuple[Any, dict[str, Any]]:
    """math-verify and lm-eval's gsm8k / minerva_math scoring, built from the installed files."""
    import importlib.util
    from importlib.metadata import version
    from pathlib import Path as P

    import lm_eval
    import yaml
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter
    from lm_eval.filters.selection import TakeFirstFilter
    from math_verify import parse, verify

    tasks = P(lm_eval.__file__).parent / "tasks"

    class _Loader(yaml.SafeLoader):  # the minerva yaml has !function tags
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    gsm = yaml.load((tasks / "gsm8k" / "gsm8k.yaml").read_text(), Loader=_Loader)
    minerva = yaml.load(
        (tasks / "minerva_math" / "minerva_math_algebra.yaml").read_text(), Loader=_Loader
    )
    spec = importlib.util.spec_from_file_location(
        "minerva_utils", tasks / "minerva_math" / "utils.py"
    )
    assert spec and spec.loader
    mu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mu)

    gsm_until = gsm["generation_kwargs"]["until"]
    minerva_until = minerva["generation_kwargs"]["until"]
    em = next(m for m in gsm["metric_list"] if m["metric"] == "exact_match")
    filters = {}
    for f in gsm["filter_list"]:
        steps = []
        for step in f["filter"]:
            if step["function"] == "regex":
                kw = {"regex_pattern": step["regex_pattern"]}
                if "group_select" in step:
                    kw["group_select"] = step["group_select"]
                steps.append(RegexFilter(**kw))
            elif step["function"] == "take_first":
                steps.append(TakeFirstFilter())
            else:
                raise ValueError(f"unexpected gsm8k filter {step['function']}")
        filters[f["name"]] = steps

    def grade(row: dict[str, Any]) -> dict[str, Any]:
        reply, out = row["reply"], {}
        gold = row["gold"]
        try:
            pred = parse(reply)  # gold as text in $...$, as grpo_gym.rewards.audit does
            ok = bool(
                verify(parse(gold if "$" in gold or "\\boxed" in gold else f"${gold}$"), pred)
            )
            out["math-verify"] = {"correct": ok, "extracted": str(pred[-1]) if pred else None}
        except Exception as exc:
            out["math-verify"] = {"correct": False, "extracted": None, "error": repr(exc)[:200]}
        if row["benchmark"] == "math500":
            cut = _cut(reply, minerva_until)
            sol = row["solution"]
            doc = {
                "solution": sol,
                "answer": mu.normalize_final_answer(
                    mu.remove_boxed(mu.last_boxed_only_string(sol))
                ),
            }
            unnorm = mu.get_unnormalized_answer(cut)
            try:
                res = mu.process_results(doc, [cut])
            except Exception as exc:
                res = {"exact_match": 0, "math_verify": 0, "error": repr(exc)[:200]}
            out["lm-eval/minerva_math-exact_match"] = {
                "correct": bool(res["exact_match"]),
                "extracted": mu.normalize_final_answer(unnorm),
            }
            out["lm-eval/minerva_math-math_verify"] = {"correct": bool(res["math_verify"])}
        else:
            cut = _cut(reply, gsm_until)
            for name, steps in filters.items():
                resps: Any = [[cut]]
                for step in steps:
                    resps = step.apply(resps, [{}])
                pred = next(iter(resps))
                pred = pred[0] if isinstance(pred, list) else pred
                score = exact_match_hf_evaluate(
                    predictions=[pred],
                    references=[row["solution"]],
                    regexes_to_ignore=em.get("regexes_to_ignore"),
                    ignore_case=em.get("ignore_case", False),
                    ignore_punctuation=em.get("ignore_punctuation", False),
                )["exact_match"]
                out[f"lm-eval/gsm8k-{name}"] = {"correct": bool(score == 1.0), "extracted": pred}
        return out

    versions = {
        p: version(p)
        for p in (
            "math-verify",
            "latex2sympy2_extended",
            "lm_eval",
            "sympy",
            "antlr4-python3-runtime",
        )
    }
    return grade, versions


def _qwen_grade_all(rows: list[dict[str, Any]], qwen_dir: str) -> tuple[list[dict], dict]:
    """The Qwen2.5-Math grader, imported from its checkout (never copied into this repository)."""
    from importlib.metadata import version

    sys.path.insert(0, qwen_dir)
    from concurrent.futures import TimeoutError as FutureTimeout

    from grader import math_equal_process  # type: ignore[import-not-found]
    from parser import parse_ground_truth, run_execute  # type: ignore[import-not-found]
    from pebble import ProcessPool

    params, preds = [], []
    for i, row in enumerate(rows):
        data_name = "math" if row["benchmark"] == "math500" else "gsm8k"
        example = (
            {"solution": row["solution"]} if data_name == "math" else {"answer": row["solution"]}
        )
        _, gt = parse_ground_truth(example, data_name)
        code = row["reply"].strip()
        for stop in QWEN_STOP:
            if stop in code:
                code = code.split(stop)[0].strip()
        pred, _ = run_execute(None, code, "cot", data_name)
        preds.append(pred)
        params.append((i, pred, gt))
    scores: list[bool] = []
    notes: list[str | None] = []  # a timed-out check scores False, as in evaluate.py
    with ProcessPool(max_workers=1) as pool:  # as evaluate.py: one worker, 3 s per check
        iterator = pool.map(math_equal_process, params, timeout=3).result()
        while True:
            try:
                scores.append(bool(next(iterator)))
                notes.append(None)
            except StopIteration:
                break
            except FutureTimeout:
                scores.append(False)
                notes.append("timeout (3 s)")
            except Exception as exc:
                scores.append(False)
                notes.append(repr(exc)[:200])
    digest = {
        name: hashlib.sha256((Path(qwen_dir) / name).read_bytes()).hexdigest()[:16]
        for name in ("grader.py", "parser.py")
    }
    versions = {
        "sympy": version("sympy"),
        "antlr4-python3-runtime": version("antlr4-python3-runtime"),
    }
    versions.update({f"sha256[:16] {k}": v for k, v in digest.items()})
    out = []
    for ok, pred, note in zip(scores, preds, notes, strict=True):
        verdict: dict[str, Any] = {"correct": ok, "extracted": pred}
        if note:
            verdict["error"] = note
        out.append({QWEN: verdict})
    return out, versions


def _worker(kind: str, qwen_dir: str | None) -> int:
    """Read rows (JSON lines) on stdin; write one JSON object: verdicts per row and versions."""
    rows = [json.loads(line) for line in sys.stdin if line.strip()]
    if kind == "lm-eval":
        grade, versions = _lm_eval_graders()
        verdicts = [grade(r) for r in rows]
    else:
        assert qwen_dir, "--qwen-dir is needed"
        verdicts, versions = _qwen_grade_all(rows, qwen_dir)
    json.dump({"verdicts": verdicts, "versions": versions}, sys.stdout)
    return 0


def run_references(
    rows: list[dict[str, Any]], reference_venv: str, qwen_venv: str | None, qwen_dir: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each row's reference verdicts, computed in the reference venvs; and their versions."""
    payload = "".join(
        json.dumps({k: r[k] for k in ("benchmark", "reply", "gold", "solution")}) + "\n"
        for r in rows
    )
    merged: list[dict[str, Any]] = [{} for _ in rows]
    versions: dict[str, Any] = {}
    jobs = [("lm-eval", reference_venv)]
    if qwen_dir:
        jobs.append(("qwen", qwen_venv or reference_venv))
    for kind, venv in jobs:
        py = Path(venv) / "bin" / "python"
        cmd = [str(py), str(Path(__file__).resolve()), "--reference-worker", kind]
        if qwen_dir:
            cmd += ["--qwen-dir", qwen_dir]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, input=payload, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"{kind} reference worker failed:\n{proc.stderr[-3000:]}")
        got = json.loads(proc.stdout)
        for slot, verdict in zip(merged, got["verdicts"], strict=True):
            slot.update(verdict)
        versions[kind] = {**got["versions"], "seconds": round(time.perf_counter() - t0, 1)}
    return merged, versions


# --------------------------------------------------------------------------------------------
# Our scorer (project venv).


class Envs:
    """One env per id; ``task(row)`` rebuilds the row's task and checks prompt and gold."""

    def __init__(self) -> None:
        import gymnasium as gym

        import grpo_gym.envs  # noqa: F401  (registers the envs)

        self._gym = gym
        self._envs: dict[str, Any] = {}

    def env(self, env_id: str) -> Any:
        if env_id not in self._envs:
            self._envs[env_id] = self._gym.make(env_id)
        return self._envs[env_id]

    def reset(self, env_id: str, seed: int) -> tuple[str, dict[str, Any]]:
        return self.env(env_id).reset(seed=seed, options={"split": "test"})

    def task(self, row: dict[str, Any]) -> Any:
        obs, info = self.reset(row["env_id"], row["seed"])
        task = info["task"]
        if task.answer != row["gold"] or not obs.endswith(row["question_tail"]):
            raise AssertionError(f"{row['id']}: the env no longer gives this row's task")
        return task


def make_reply(text: str, finish_reason: str) -> Any:
    """``Reply(text, finish_reason)`` when grpo_gym has it, else the plain text."""
    try:
        from grpo_gym.rewards.types import Reply  # type: ignore[attr-defined]
    except ImportError:
        return text
    return Reply(text, finish_reason=finish_reason)


def has_reply_type() -> bool:
    try:
        from grpo_gym.rewards.types import Reply  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        return False
    return True


def score_ours(envs: Envs, row: dict[str, Any]) -> tuple[bool, str | None, str | None]:
    """Our verdict on a row now: (correct, extracted answer, reason)."""
    env = envs.env(row["env_id"]).unwrapped
    result = env.score_reply(make_reply(row["reply"], row["finish_reason"]), envs.task(row))
    return result.score == 1.0, result.extracted, result.reason


def load(path: Path = LABELLED) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# Counting.


def summarise(rows: list[dict[str, Any]], ours: list[bool]) -> dict[str, Any]:
    """FP / FN per benchmark per grader against the hand labels (unlabelled rows skipped)."""
    table: dict[str, Any] = {}
    by_bench: dict[str, list[tuple[dict[str, Any], bool]]] = defaultdict(list)
    for row, mine in zip(rows, ours, strict=True):
        if row.get("hand_label") is not None:
            by_bench[row["benchmark"]].append((row, mine))
    for bench in sorted(by_bench):
        items = by_bench[bench]
        graders: dict[str, Any] = {}
        names = ("ours", "ours-old", *references_for(bench))
        for name in names:
            fp, fn = [], []
            for row, mine in items:
                if name == "ours":
                    said = mine
                elif name == "ours-old":
                    said = row["ours_old"]
                else:
                    said = row["reference"][name]["correct"]
                if said and not row["hand_label"]:
                    fp.append(row["id"])
                elif not said and row["hand_label"]:
                    fn.append(row["id"])
            graders[name] = {"fp": len(fp), "fn": len(fn), "fp_ids": fp, "fn_ids": fn}
        best_ref_fn = min(graders[n]["fn"] for n in references_for(bench))
        table[bench] = {
            "rows": len(items),
            "hand_correct": sum(r["hand_label"] for r, _ in items),
            "truncated_rows": sum(r["finish_reason"] == "length" for r, _ in items),
            "graders": graders,
            "goal_met": graders["ours"]["fp"] == 0 and graders["ours"]["fn"] <= best_ref_fn,
            "best_reference_fn": best_ref_fn,
        }
    return table


def totals(table: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, dict[str, int]] = {}
    for bench in table.values():
        for name, g in bench["graders"].items():
            t = out.setdefault(name, {"fp": 0, "fn": 0, "benchmarks": 0})
            t["fp"] += g["fp"]
            t["fn"] += g["fn"]
            t["benchmarks"] += 1
    return out


# --------------------------------------------------------------------------------------------
# Rebuilding the labelled set from the committed samples.


def sample_rows(envs: Envs) -> list[dict[str, Any]]:
    """Every reply of the committed math samples files, with its gold and reference solution."""
    rows = []
    for source in SOURCES:
        path = RESULTS / f"{source}.samples.jsonl"
        for line in path.read_text().splitlines():
            s = json.loads(line)
            obs, info = envs.reset(s["env_id"], s["seed"])
            if obs != s["prompt"]:
                raise AssertionError(f"{source} #{s['problem']}: the env gives another prompt")
            question = info["task"].prompt
            rows.append(
                {
                    "id": f"{source}#{s['problem']}",
                    "source": source,
                    "env_id": s["env_id"],
                    "benchmark": BENCHMARKS[s["env_id"]],
                    "problem": s["problem"],
                    "seed": s["seed"],
                    "question_tail": question[-200:],
                    "gold": info["task"].answer,
                    "solution": info["solution"],
                    "finish_reason": "length" if s["truncated"] else "stop",
                    "reply_tokens": s["reply_tokens"],
                    "reply": s["reply"],
                    "ours_old": s["reward"] == 1.0,
                }
            )
    return rows


FIELDS = (
    "id",
    "source",
    "env_id",
    "benchmark",
    "problem",
    "seed",
    "gold",
    "finish_reason",
    "reply_tokens",
    "hand_label",
    "hand_reason",
    "ours_old",
    "ours",
    "ours_extracted",
    "reference",
    "reply",
    "solution",
    "question_tail",
)


def rebuild(args: argparse.Namespace, envs: Envs) -> int:
    rows = sample_rows(envs)
    print(f"scoring {len(rows)} replies with the references ...", file=sys.stderr)
    refs, _ = run_references(rows, args.reference_venv, args.qwen_venv, args.qwen_dir)
    old = {r["id"]: r for r in load()} if LABELLED.exists() else {}
    kept = []
    for row, ref in zip(rows, refs, strict=True):
        ok, extracted, _ = score_ours(envs, row)
        row.update(ours=ok, ours_extracted=extracted, reference=ref)
        said = [row["ours_old"], ok, *(v["correct"] for v in ref.values())]
        if not any(said):
            continue
        prev = old.get(row["id"], {})
        row["hand_label"] = prev.get("hand_label")
        row["hand_reason"] = prev.get("hand_reason")
        kept.append({k: row[k] for k in FIELDS})
    LABELLED.parent.mkdir(parents=True, exist_ok=True)
    LABELLED.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    todo = sum(r["hand_label"] is None for r in kept)
    print(f"{len(kept)} rows written to {LABELLED.relative_to(ROOT)}; {todo} need a hand label")
    return 0


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-venv", help="venv with math-verify 0.9.0 and lm-eval 0.4.13")
    ap.add_argument(
        "--qwen-venv", help="venv for the Qwen2.5-Math grader (default: --reference-venv)"
    )
    ap.add_argument("--qwen-dir", help="Qwen2.5-Math checkout's evaluation/ folder")
    ap.add_argument("--rebuild", action="store_true", help="rewrite the JSONL from the samples")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--reference-worker", choices=("lm-eval", "qwen"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.reference_worker:
        return _worker(args.reference_worker, args.qwen_dir)

    envs = Envs()
    if args.rebuild:
        if not (args.reference_venv and args.qwen_dir):
            ap.error("--rebuild needs --reference-venv and --qwen-dir")
        return rebuild(args, envs)

    from machine import describe_machine  # benchmarks/machine.py, beside this script

    rows = load()
    t0 = time.perf_counter()
    ours, disagree = [], []
    for row in rows:
        ok, extracted, reason = score_ours(envs, row)
        ours.append(ok)
        if row.get("hand_label") is not None and ok != row["hand_label"]:
            disagree.append(
                {
                    "id": row["id"],
                    "hand_label": row["hand_label"],
                    "hand_reason": row["hand_reason"],
                    "ours": ok,
                    "ours_extracted": extracted,
                    "ours_reason": reason,
                    "finish_reason": row["finish_reason"],
                }
            )
    ours_seconds = time.perf_counter() - t0

    reference_versions: dict[str, Any] = {"stored_verdicts_from": STORED_REFERENCES}
    changed: list[dict[str, Any]] = []
    if args.reference_venv:
        fresh, reference_versions["recomputed_with"] = run_references(
            rows, args.reference_venv, args.qwen_venv, args.qwen_dir
        )
        for row, ref in zip(rows, fresh, strict=True):
            for name, verdict in ref.items():
                stored = row["reference"].get(name, {}).get("correct")
                if stored != verdict["correct"]:
                    changed.append(
                        {
                            "id": row["id"],
                            "grader": name,
                            "stored": stored,
                            "now": verdict["correct"],
                        }
                    )
                row["reference"][name] = verdict

    table = summarise(rows, ours)
    result = {
        "benchmark": "grader agreement on hand-labelled replies (issue 30)",
        "labelled_set": str(LABELLED.relative_to(ROOT)),
        "rows": len(rows),
        "unlabelled_rows": sum(r.get("hand_label") is None for r in rows),
        "ours_passes_finish_reason": has_reply_type(),
        "ours_seconds": round(ours_seconds, 2),
        "per_benchmark": table,
        "totals": totals(table),
        "ours_vs_hand_label": disagree,
        "reference_verdicts": "recomputed" if args.reference_venv else "stored in the JSONL",
        "reference_changes_from_stored": changed,
        "reference_versions": reference_versions,
        "machine": describe_machine(packages=("grpo-gym", "sympy", "gymnasium")),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(rows)} rows; ours disagrees with the hand label on {len(disagree)}")
    for bench, t in table.items():
        cells = "  ".join(f"{n} {g['fp']}/{g['fn']}" for n, g in t["graders"].items())
        print(f"{bench:12s} rows {t['rows']:3d}  FP/FN  {cells}")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
