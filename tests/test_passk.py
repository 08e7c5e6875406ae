"""pass@k against brute-force enumeration, edge cases, stability, and the stderr helper."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from grpo_gym.agent.passk import default_ks, mean_pass_at_k, mean_stderr, pass_at_k


def brute_force(n: int, c: int, k: int) -> Fraction:
    """Fraction of the k-subsets of n samples (the first c correct) holding a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(i < c for i in s) for s in subsets), len(subsets))


@pytest.mark.parametrize("n", range(1, 9))
def test_matches_enumeration(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(brute_force(n, c, k)), abs=1e-12), (
                n,
                c,
                k,
            )


def test_edge_cases() -> None:
    assert pass_at_k(5, 0, 1) == 0.0 and pass_at_k(5, 0, 5) == 0.0  # nothing correct
    assert pass_at_k(5, 5, 1) == 1.0 and pass_at_k(5, 5, 5) == 1.0  # everything correct
    assert pass_at_k(5, 1, 5) == 1.0  # k = n: the one correct sample is always drawn
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 = c / n
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0


def test_large_n_is_stable() -> None:
    """C(1000, 500) overflows a float; the product form does not."""
    v = pass_at_k(1000, 3, 500)
    exact = 1 - Fraction(math.comb(997, 500), math.comb(1000, 500))
    assert v == pytest.approx(float(exact), rel=1e-9)
    assert 0.0 <= pass_at_k(2000, 1, 1) <= 1.0


@pytest.mark.parametrize(("n", "c", "k"), [(4, 5, 1), (4, -1, 1), (4, 2, 5), (4, 2, 0), (0, 0, 1)])
def test_invalid_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_mean_over_problems() -> None:
    assert mean_pass_at_k([(4, 0), (4, 4), (4, 2)], 1) == pytest.approx((0 + 1 + 0.5) / 3)
    with pytest.raises(ValueError):
        mean_pass_at_k([], 1)


def test_mean_stderr() -> None:
    mean, se = mean_stderr([0.0, 1.0, 1.0, 0.0])
    assert mean == 0.5
    assert se == pytest.approx(math.sqrt((4 * 0.25 / 3) / 4))  # sample std / sqrt(P)
    assert mean_stderr([0.7]) == (0.7, None)


def test_default_ks() -> None:
    assert default_ks(1) == (1,)
    assert default_ks(8) == (1, 2, 4, 8)
    assert default_ks(10) == (1, 2, 4, 8, 10)
