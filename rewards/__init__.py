"""Pure, composable reward functions: answer extraction, safe math equivalence, format rubrics.

This folder installs as ``grpo_gym.rewards``. Math: :func:`verify`, :func:`math_reward`,
:func:`verify_batch` (extraction in ``extract``, parsing in ``mathparse``, comparison in
``equivalence``, the time-limited worker pool in ``pool``). Format: ``format`` (tags, boxes,
JSON), ``layout`` (IFEval-style checks), ``keywords``, ``length``, ``rubric``, ``trl_adapter``.
"""

from .equivalence import sym_equal
from .extract import extract_answer, extract_gold
from .format import (
    BoxedAnswer,
    JsonField,
    JsonObject,
    TagAnswerEquals,
    TagFormat,
    extract_boxed,
    extract_tag,
    parse_tags,
)
from .keywords import (
    ForbiddenWords,
    IncludeKeywords,
    KeywordFrequency,
    LetterFrequency,
    count_occurrences,
)
from .layout import (
    AllLowercase,
    AllUppercase,
    BulletCount,
    EndsWith,
    NoCommas,
    Placeholders,
    Postscript,
    Sections,
    StartsWith,
    Title,
)
from .length import (
    LengthInRange,
    OverlongPenalty,
    count_units,
    count_words,
    paragraphs_in_range,
    sentences_in_range,
    soft_overlong_penalty,
    words_in_range,
)
from .math_config import EXTRACTION_MODES, MathVerifyConfig
from .math_reward import clear_math_caches, math_reward, verify, verify_batch
from .mathparse import MathParseError, parse_math
from .pool import CheckTimeout, WorkerError, get_pool, run_limited, shutdown_pool
from .rubric import PassFail, Rubric, RubricItem, TaskRubric
from .trl_adapter import FromTrl, MissingColumnError, ToTrl
from .types import Reply, RewardFn, RewardResult, Task, finish_reason, is_truncated

__all__ = [
    "EXTRACTION_MODES",
    "AllLowercase",
    "AllUppercase",
    "BoxedAnswer",
    "BulletCount",
    "CheckTimeout",
    "EndsWith",
    "ForbiddenWords",
    "FromTrl",
    "IncludeKeywords",
    "JsonField",
    "JsonObject",
    "KeywordFrequency",
    "LengthInRange",
    "LetterFrequency",
    "MathParseError",
    "MathVerifyConfig",
    "MissingColumnError",
    "NoCommas",
    "OverlongPenalty",
    "PassFail",
    "Placeholders",
    "Postscript",
    "Reply",
    "RewardFn",
    "RewardResult",
    "Rubric",
    "RubricItem",
    "Sections",
    "StartsWith",
    "TagAnswerEquals",
    "TagFormat",
    "Task",
    "TaskRubric",
    "Title",
    "ToTrl",
    "WorkerError",
    "clear_math_caches",
    "count_occurrences",
    "count_units",
    "count_words",
    "extract_answer",
    "extract_boxed",
    "extract_gold",
    "extract_tag",
    "finish_reason",
    "get_pool",
    "is_truncated",
    "math_reward",
    "paragraphs_in_range",
    "parse_math",
    "parse_tags",
    "run_limited",
    "sentences_in_range",
    "shutdown_pool",
    "soft_overlong_penalty",
    "sym_equal",
    "verify",
    "verify_batch",
    "words_in_range",
]  # fmt: skip
