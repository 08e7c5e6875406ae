"""The trained model as a weights-only folder: ``<output_dir>/final``.

Checkpoints hold everything a resume needs (optimizer moments are about twice the weights);
``final`` holds only what ``from_pretrained`` reads: the model's safetensors and config, its
generation config and the tokenizer (with the chat template training used). It is written into a
temporary folder and renamed into place, so it is either absent or whole.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .files import apply_umask, temp_folder

FINAL_DIR = "final"


def save_final_model(
    output_dir: Path, model: Any, tokenizer: Any, weights: dict[str, Any] | None = None
) -> Path:
    """Write ``output_dir/final`` (model + tokenizer, no optimizer state) atomically; return it.

    ``weights``: a full state dict to save instead of the model's own (FSDP, gathered).
    """
    final = output_dir / FINAL_DIR
    tmp = temp_folder(output_dir, ".tmp-final-")
    try:
        model.save_pretrained(tmp, safe_serialization=True, state_dict=weights)
        tokenizer.save_pretrained(tmp)
        apply_umask(tmp)
        if final.exists():
            old = temp_folder(output_dir, ".old-final-")
            final.rename(old / FINAL_DIR)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
