"""Pure, composable reward functions: answer extraction, safe math equivalence, format rubrics."""

from .types import RewardFn, RewardResult, Task

__all__ = ["RewardFn", "RewardResult", "Task"]

# --- math verification (owned by rewards-math work: extract.py, math parsing, pool) ---
from .equivalence import sym_equal
from .extract import extract_answer, extract_gold
from .math_config import EXTRACTION_MODES, MathVerifyConfig
from .math_reward import clear_math_caches, math_reward, verify, verify_batch
from .mathparse import MathParseError, parse_math
from .pool import CheckTimeout, WorkerError, get_pool, run_limited, shutdown_pool

__all__ += [
    "EXTRACTION_MODES", "CheckTimeout", "MathParseError", "MathVerifyConfig", "WorkerError",
    "clear_math_caches", "extract_answer", "extract_gold", "get_pool", "math_reward", "parse_math", "run_limited",
    "shutdown_pool", "sym_equal", "verify", "verify_batch",
]  # fmt: skip
# --- end math ---

# --- format / keyword / length rewards, Rubric, TRL adapter ---
from .format import (  # noqa: E402  (after the math section's __all__)
    AllLowercase,
    AllUppercase,
    BoxedAnswer,
    BulletCount,
    EndsWith,
    JsonField,
    JsonObject,
    NoCommas,
    Placeholders,
    Postscript,
    Sections,
    StartsWith,
    TagAnswerEquals,
    TagFormat,
    Title,
    extract_boxed,
    extract_tag,
    parse_tags,
)
from .keywords import (  # noqa: E402  (after the math section's __all__)
    ForbiddenWords,
    IncludeKeywords,
    KeywordFrequency,
    LetterFrequency,
    count_word,
)
from .length import (  # noqa: E402  (after the math section's __all__)
    LengthInRange,
    OverlongPenalty,
    count_units,
    count_words,
    paragraph_count,
    sentence_count,
    soft_overlong_penalty,
    word_count,
)
from .rubric import PassFail, Rubric, RubricItem, TaskRubric  # noqa: E402
from .trl_adapter import FromTrl, ToTrl  # noqa: E402

__all__ += [
    "AllLowercase", "AllUppercase", "BoxedAnswer", "BulletCount", "EndsWith", "ForbiddenWords",
    "FromTrl", "IncludeKeywords", "JsonField", "JsonObject", "KeywordFrequency",
    "LengthInRange", "LetterFrequency", "NoCommas", "OverlongPenalty", "PassFail",
    "Placeholders", "Postscript", "Rubric", "RubricItem", "Sections", "StartsWith",
    "TagAnswerEquals", "TagFormat", "TaskRubric", "Title", "ToTrl", "count_units",
    "count_word", "count_words", "extract_boxed", "extract_tag", "paragraph_count",
    "parse_tags", "sentence_count", "soft_overlong_penalty", "word_count",
]  # fmt: skip
# --- end format ---
