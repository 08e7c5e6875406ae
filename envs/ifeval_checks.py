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
  parameters that IFEval loads) ships inside the PyPI wheel ``llama-index-core``, and so does
  nltk's English stopwords list (IFBench). ``ensure_nltk`` fetches that wheel once with
  ``pip download --no-deps`` (never installed), extracts the files of ``NLTK_FILES`` into
  ``$GRPO_GYM_CACHE/nltk_data`` after checking their sha256, and puts that folder on nltk's
  path; ``registry`` points the checkers' sentence tokenizer at the punkt_tab data.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

NLTK_WHEEL = "llama-index-core==0.14.25"
_WHEEL_ROOT = "llama_index/core/_static/nltk_cache/"
#: The nltk data files taken from that wheel, by nltk resource, with their sha256 (checked on
#: extraction): English Punkt (punkt_tab; IFEval and IFBench) and the English stopwords list
#: (198 words; IFBench's ``ratio:stop_words``).
NLTK_FILES = {
    "tokenizers/punkt_tab/english": {
        "abbrev_types.txt": "92a3e070f43d9b4c5534758ca40ad7343b04e7e29bfe0c2eb658a39445a4f779",
        "collocations.tab": "8e2da1225e4dd2cc9dba261ee231ccb134859e21b46006e7f472c5ee269af0cf",
        "ortho_context.tab": "4bbcca25ed3d3f06c02402abf8419b9f033b8adc06e7b482eca4e45f81a5dc4c",
        "sent_starters.txt": "f3f8535483e1dba487241b764945168123bca3209a9645e59acd1225dc76edac",
    },
    "corpora/stopwords": {
        "english": "f6d005956f407dbc6ea32e5ff0c7e8e6f71488d3239b9023efdc7fc139d6375b",
    },
}


class IFEvalUnavailable(ImportError, gym.error.DependencyNotInstalled):
    """The ``ifeval`` extra (if-verifiable, langdetect, nltk) or the nltk data is missing.

    Also a Gymnasium ``DependencyNotInstalled``, so ``gym.make`` callers and the command line
    (which prints Gymnasium errors as one line) report it as the missing extra it is."""


@dataclass(frozen=True)
class Verdict:
    """Whether one instruction was followed, strictly and loosely."""

    instruction_id: str
    strict: bool
    loose: bool


def _cache_dir() -> Path:
    return Path(os.environ.get("GRPO_GYM_CACHE", Path.home() / ".cache" / "grpo_gym"))


def _nltk_root() -> Path:
    return _cache_dir() / "nltk_data"


def _fetch_nltk(resource: str, target: Path) -> None:
    """Extract ``NLTK_FILES[resource]`` from the wheel (fetched, never installed) to target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".nltk-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", NLTK_WHEEL, "-d", tmp]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise IFEvalUnavailable(
                f"The instruction checkers need nltk's {resource} data: tried "
                f"`pip download --no-deps {NLTK_WHEEL}` (exit {proc.returncode}: "
                f"{proc.stderr.strip()[-200:]}). Copy {resource} from nltk_data "
                f"to {target} by hand, or set NLTK_DATA to a folder that has it."
            )
        out = Path(tmp) / "out"
        out.mkdir()
        with zipfile.ZipFile(wheels[0]) as zf:
            for name, sha in NLTK_FILES[resource].items():
                data = zf.read(f"{_WHEEL_ROOT}{resource}/{name}")
                if hashlib.sha256(data).hexdigest() != sha:
                    raise IFEvalUnavailable(
                        f"{resource}/{name} in {wheels[0].name} is not the expected file "
                        f"(sha256 differs): copy {resource} from nltk_data to {target} by hand"
                    )
                (out / name).write_bytes(data)
        if target.exists():  # another process won the race
            return
        os.replace(out, target)


@functools.cache
def ensure_nltk(resource: str) -> Path:
    """nltk's ``resource`` (a key of ``NLTK_FILES``) on nltk's path; fetched once (module doc)."""
    import nltk

    try:
        return Path(str(nltk.data.find(resource + "/")))
    except LookupError:
        pass
    target = _nltk_root() / resource
    if not all((target / n).is_file() for n in NLTK_FILES[resource]):
        _fetch_nltk(resource, target)
    root = str(_nltk_root())
    if root not in nltk.data.path:
        nltk.data.path.append(root)
    return target


def ensure_punkt() -> Path:
    """nltk's English Punkt (punkt_tab) data on nltk's path; fetched once (see module doc)."""
    return ensure_nltk("tokenizers/punkt_tab/english")


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


def checker(
    instruction_id: str,
    kwargs: Mapping[str, Any],
    prompt: str,
    instructions: Mapping[str, Any] | None = None,
) -> Any:
    """A built checker (``build_description`` called with ``kwargs``, and the prompt if it
    takes one), as the official ``evaluation_lib`` builds it. ``instructions``: the checker
    classes by id (default: IFEval's ``registry()``; IFBench passes its own)."""
    cls = (registry() if instructions is None else instructions).get(instruction_id)
    if cls is None:
        raise ValueError(f"unknown instruction {instruction_id!r}")
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


def _follows(inst: Any, reply: str) -> bool:
    """The checker's verdict on ``reply``: an empty reply, or one it raises on, does not follow."""
    try:
        return bool(reply.strip() and inst.check_following(reply))
    except Exception:  # a checker's own bug on odd text (see check_reply)
        return False


def check_reply(
    reply: str,
    instruction_ids: Sequence[str],
    kwargs: Sequence[Mapping[str, Any]],
    prompt: str,
    *,
    loose: bool = True,
    instructions: Mapping[str, Any] | None = None,
) -> list[Verdict]:
    """One verdict per instruction (strict: the reply as is; loose: any official variant).
    With ``loose=False`` the loose verdicts are not computed (they equal the strict ones).
    ``instructions``: as in ``checker``. A checker that raises on a reply (IFBench's
    ``format:quote_unquote`` indexes into a reply of only punctuation) counts it as not
    followed."""
    variants = _loose_variants(reply) if loose else []
    verdicts = []
    for iid, kw in zip(instruction_ids, kwargs, strict=True):
        inst = checker(iid, kw, prompt, instructions)
        strict = _follows(inst, reply)
        lenient = strict or any(_follows(inst, v) for v in variants)
        verdicts.append(Verdict(iid, strict, bool(lenient)))
    return verdicts
