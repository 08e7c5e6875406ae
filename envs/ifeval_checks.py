"""IFEval's official instruction checkers (PyPI ``if-verifiable``, Apache-2.0), made deterministic
and offline.

* ``check_reply(reply, instruction_ids, kwargs, prompt)`` -> one ``Verdict`` per instruction,
  strict and loose, exactly as google-research's ``evaluation_lib`` computes them (the loose
  variants are the library's ``get_loose_transformations``: first/last line removed, ``*``
  removed).
* Language detection (``langdetect``) is random by default: ``DetectorFactory.seed = 0`` is set
  before any check, and Python's ``random`` is seeded while a checker is built (see
  ``checker``), so a reply gets the same verdict in every process and run.
* nltk's English Punkt sentence tokenizer (``count_sentences`` and ``word_tokenize``) is not on
  PyPI as nltk data. Its ``punkt_tab`` export (NLTK's own conversion of the ``english.pickle``
  parameters that IFEval loads) ships inside the PyPI wheel ``llama-index-core``. ``ensure_punkt``
  fetches that wheel once with ``pip download --no-deps`` (never installed), extracts the four
  English files into ``$GRPO_GYM_CACHE/nltk_data`` after checking their sha256, and points the
  checkers' sentence tokenizer at it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUNKT_WHEEL = "llama-index-core==0.14.25"
_PUNKT_MEMBER = "llama_index/core/_static/nltk_cache/tokenizers/punkt_tab/english/"
#: sha256 of the English punkt_tab files (NLTK's punkt_tab data, as shipped in that wheel).
PUNKT_FILES = {
    "abbrev_types.txt": None,
    "collocations.tab": None,
    "ortho_context.tab": None,
    "sent_starters.txt": None,
}


class IFEvalUnavailable(ImportError):
    """The ``ifeval`` extra (if-verifiable, langdetect, nltk) or the Punkt data is missing."""


@dataclass(frozen=True)
class Verdict:
    """Whether one instruction was followed, strictly and loosely."""

    instruction_id: str
    strict: bool
    loose: bool


def _cache_dir() -> Path:
    return Path(os.environ.get("GRPO_GYM_CACHE", Path.home() / ".cache" / "grpo_gym"))


def _punkt_dir() -> Path:
    return _cache_dir() / "nltk_data" / "tokenizers" / "punkt_tab" / "english"


def _fetch_punkt(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".punkt-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", PUNKT_WHEEL, "-d", tmp]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise IFEvalUnavailable(
                f"IFEval's sentence counter needs nltk's English Punkt data: tried "
                f"`pip download --no-deps {PUNKT_WHEEL}` (exit {proc.returncode}: "
                f"{proc.stderr.strip()[-200:]}). Copy tokenizers/punkt_tab/english from nltk_data "
                f"to {target} by hand, or set NLTK_DATA to a folder that has it."
            )
        out = Path(tmp) / "english"
        out.mkdir()
        with zipfile.ZipFile(wheels[0]) as zf:
            for name in PUNKT_FILES:
                with zf.open(_PUNKT_MEMBER + name) as src, open(out / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        if target.exists():  # another process won the race
            return
        os.replace(out, target)


def punkt_sha256() -> dict[str, str]:
    """sha256 of each English punkt_tab file in use (recorded in benchmark results)."""
    return {n: hashlib.sha256((_punkt_dir() / n).read_bytes()).hexdigest() for n in PUNKT_FILES}


@functools.cache
def ensure_punkt() -> Path:
    """nltk's English Punkt (punkt_tab) data on nltk's path; fetched once (see module doc)."""
    import nltk

    try:
        return Path(str(nltk.data.find("tokenizers/punkt_tab/english/")))
    except LookupError:
        pass
    target = _punkt_dir()
    if not all((target / n).is_file() for n in PUNKT_FILES):
        _fetch_punkt(target)
    root = str(target.parents[2])
    if root not in nltk.data.path:
        nltk.data.path.append(root)
    return target


@functools.cache
def registry() -> Mapping[str, Any]:
    """IFEval's ``INSTRUCTION_DICT`` (id -> checker class), ready to use deterministically."""
    try:
        import langdetect
        import nltk
        from if_verifiable.ifeval import instructions_util
        from if_verifiable.ifeval.instructions_registry import INSTRUCTION_DICT
    except ImportError as exc:
        raise IFEvalUnavailable(
            f"IFEval needs the 'ifeval' extra ({exc.name} is missing): "
            "pip install 'grpo-gym[ifeval]'"
        ) from None
    langdetect.DetectorFactory.seed = 0  # langdetect samples at random unless seeded
    ensure_punkt()
    tokenizer = nltk.tokenize.PunktTokenizer("english")
    instructions_util._get_sentence_tokenizer = lambda: tokenizer  # the pickle -> punkt_tab
    return INSTRUCTION_DICT


def _loose_variants(reply: str) -> list[str]:
    from if_verifiable.common import get_loose_transformations

    return get_loose_transformations(reply)


def checker(instruction_id: str, kwargs: Mapping[str, Any], prompt: str) -> Any:
    """A built checker (``build_description`` called with ``kwargs``, and the prompt if it
    takes one), as the official ``evaluation_lib`` builds it."""
    cls = registry().get(instruction_id)
    if cls is None:
        raise ValueError(f"unknown IFEval instruction {instruction_id!r}")
    inst = cls(instruction_id)
    # build_description draws from Python's global ``random`` when an argument is missing or
    # invalid (IFEval prompt 1122 asks for the "letter" '#', which is replaced by a random
    # letter): seed it for this call only, so the verdict is the same in every process.
    state = random.getstate()
    random.seed(0)
    try:
        inst.build_description(**{k: v for k, v in kwargs.items() if v is not None})
        args = inst.get_instruction_args()
        if args and "prompt" in args:
            inst.build_description(prompt=prompt)
    finally:
        random.setstate(state)
    return inst


def check_reply(
    reply: str,
    instruction_ids: Sequence[str],
    kwargs: Sequence[Mapping[str, Any]],
    prompt: str,
    *,
    loose: bool = True,
) -> list[Verdict]:
    """One verdict per instruction (strict: the reply as is; loose: any official variant).
    With ``loose=False`` the loose verdicts are not computed (they equal the strict ones)."""
    variants = _loose_variants(reply) if loose else []
    verdicts = []
    for iid, kw in zip(instruction_ids, kwargs, strict=True):
        inst = checker(iid, kw, prompt)
        strict = bool(reply.strip() and inst.check_following(reply))
        lenient = strict or any(v.strip() and inst.check_following(v) for v in variants)
        verdicts.append(Verdict(iid, strict, bool(lenient)))
    return verdicts
