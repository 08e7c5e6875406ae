"""Keyword rewards: whole-word, case-insensitive matching with partial credit."""

from __future__ import annotations

import pickle

import pytest

from grpo_gym.rewards import (
    ForbiddenWords,
    IncludeKeywords,
    KeywordFrequency,
    LetterFrequency,
    Task,
)

T = Task(prompt="p")


@pytest.mark.parametrize(
    ("fn", "reply", "expected"),
    [
        (IncludeKeywords(("cat", "dog")), "The Cat chased a DOG.", 1.0),
        (IncludeKeywords(("cat", "dog")), "The cat slept.", 0.5),
        (IncludeKeywords(("cat", "dog")), "category of dogs", 0.0),  # whole words only
        (
            IncludeKeywords(("ice cream",)),
            "I like ice\ncream a lot",
            1.0,
        ),  # phrase across whitespace
        (IncludeKeywords(("ice cream",)), "icecream", 0.0),
        (IncludeKeywords(("c++",)), "I write C++ daily", 1.0),  # regex characters are literal
        (IncludeKeywords(("cat",)), "", 0.0),
        (KeywordFrequency("data", 3), "data data Data", 1.0),
        (KeywordFrequency("data", 3), "data, database, data.", 2 / 3),
        (KeywordFrequency("data", 2, "at_most"), "data data", 1.0),
        (KeywordFrequency("data", 2, "at_most"), "data data data data", 0.5),
        (KeywordFrequency("data", 0, "at_most"), "no mention", 1.0),
        (KeywordFrequency("data", 0, "at_most"), "data", 0.0),
        (KeywordFrequency("data", 2, "exactly"), "data and data", 1.0),
        (KeywordFrequency("data", 2, "exactly"), "data data data data", 0.5),
        (KeywordFrequency("data", 2, "exactly"), "nothing", 0.0),
        (KeywordFrequency("data", 2, "at_most"), "  ", 0.0),  # saying nothing earns nothing
        (ForbiddenWords(("very", "good")), "An excellent result.", 1.0),
        (ForbiddenWords(("very", "good")), "A Very fine result.", 0.5),
        (ForbiddenWords(("very", "good")), "very GOOD", 0.0),
        (ForbiddenWords(("very", "good")), "everyone goodness", 1.0),  # substrings are fine
        (ForbiddenWords(("very",)), "", 0.0),
        (LetterFrequency("a", 3), "banana", 1.0),
        (LetterFrequency("a", 3), "Aa", 2 / 3),
        (LetterFrequency("z", 1, "at_most"), "zz", 0.5),
        (LetterFrequency("z", 2, "exactly"), "Zz", 1.0),
    ],
)
def test_keyword_rewards(fn, reply: str, expected: float) -> None:
    res = fn(reply, T)
    assert res.score == pytest.approx(expected), res
    assert (res.reason is None) == (res.score == 1.0)
    assert pickle.loads(pickle.dumps(fn)) == fn


def test_components_name_the_missing_keyword() -> None:
    res = IncludeKeywords(("cat", "dog"))("a cat", T)
    assert res.components == {"kw:cat": 1.0, "kw:dog": 0.0}
    assert "dog" in (res.reason or "")


@pytest.mark.parametrize(
    "bad",
    [
        lambda: IncludeKeywords(()),
        lambda: IncludeKeywords(("",)),
        lambda: ForbiddenWords((" ",)),
        lambda: KeywordFrequency("x", -1),
        lambda: KeywordFrequency("x", 1, "about"),
        lambda: LetterFrequency("ab", 1),
        lambda: LetterFrequency("1", 1),
    ],
)
def test_bad_parameters_raise(bad) -> None:
    with pytest.raises(ValueError):
        bad()


def test_instructions_state_the_parameters() -> None:
    assert '"cat"' in IncludeKeywords(("cat",)).instruction
    assert "at most 2 times" in KeywordFrequency("cat", 2, "at_most").instruction
    assert "exactly once" in KeywordFrequency("cat", 1, "exactly").instruction
    assert '"very"' in ForbiddenWords(("very",)).instruction
