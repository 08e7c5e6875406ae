#!/usr/bin/env bash
# SmolLM2-135M-Instruct, greedy, on the real benchmark envs (one `grpo-gym eval` per env).
# Usage: benchmarks/run_real_benchmarks.sh ENV_ID PROBLEMS MAX_NEW_TOKENS NAME
# Writes benchmarks/results/NAME.{json,md,samples.jsonl} and NAME.time.json (wall time, machine).
# Runs on one thread at low priority so that others keep a core (shared 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."
env_id=$1 problems=$2 max_new=$3 name=$4
out=benchmarks/results/$name
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
start=$(date +%s)
nice -n 10 .venv/bin/grpo-gym eval --model smollm2-135m --env "$env_id" --problems "$problems" \
    --temperature 0 --max-new-tokens "$max_new" --batch-size 32 --plots off \
    --json-out "$out.json" --md-out "$out.md" --samples-out "$out.samples.jsonl"
end=$(date +%s)
.venv/bin/python - "$out.time.json" "$((end - start))" "$env_id" <<'PY'
import json, sys
sys.path.insert(0, "benchmarks")
from machine import describe_machine
path, seconds, env_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
machine = describe_machine(("torch", "transformers", "grpo-gym", "if-verifiable"))
json.dump({"env": env_id, "wall_s": seconds, "threads": 1, "machine": machine}, open(path, "w"), indent=2)
PY
