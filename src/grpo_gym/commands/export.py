"""``grpo-gym export``: a training checkpoint as a plain model folder.

    grpo-gym export --checkpoint runs/grpo/checkpoint-000050 --output merged/ [--base MODEL]

A LoRA run's checkpoint holds only the adapter: its base model (recorded in the adapter config,
or ``--base``) is loaded, the adapter merged in, and the result written with ``save_pretrained``.
A full run's checkpoint is written again without the trainer state. Either way the output loads
with ``transformers.AutoModelForCausalLM.from_pretrained(OUTPUT)``, no peft and no grpo-gym needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a checkpoint (LoRA adapters merged in) as a plain transformers model folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--checkpoint", type=Path, required=True, help="a checkpoint-NNNNNN folder of a run"
    )
    p.add_argument("--output", type=Path, required=True, help="the folder to write (new or empty)")
    p.add_argument(
        "--base",
        help="LoRA: the base model the adapter was trained on (default: the one the adapter records)",
    )
    p.set_defaults(func=run)


def check_paths(checkpoint: Path, output: Path) -> None:
    """Fail before any model loads on a checkpoint that is not one, or an output in the way."""
    if not checkpoint.is_dir():
        raise FileNotFoundError(f"--checkpoint {checkpoint}: no such folder")
    if not any((checkpoint / f).is_file() for f in ("config.json", "adapter_config.json")):
        raise ValueError(
            f"--checkpoint {checkpoint}: neither a model (config.json) nor a LoRA adapter "
            f"(adapter_config.json); pass a run's checkpoint-NNNNNN folder"
        )
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValueError(f"--output {output}: exists and is not an empty folder; choose a new one")


def run(args: argparse.Namespace) -> int:
    from grpo_gym.agent.lora import export_merged, is_adapter_checkpoint
    from grpo_gym.agent.model import load_policy

    check_paths(args.checkpoint, args.output)
    if is_adapter_checkpoint(args.checkpoint):
        export_merged(args.checkpoint, args.output, base=args.base)
    else:
        if args.base:
            raise ValueError(
                f"--base applies to LoRA checkpoints; {args.checkpoint} holds a whole model: drop --base"
            )
        model, tokenizer = load_policy(args.checkpoint, device="cpu", dtype="float32")
        model.save_pretrained(args.output)
        tokenizer.save_pretrained(args.output)
    print(f"wrote {args.output} (load it with AutoModelForCausalLM.from_pretrained)")
    return 0
