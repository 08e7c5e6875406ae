"""Estimators for evaluation: unbiased pass@k (Chen et al. 2021) and the standard error of a mean.

pass@k is the probability that at least one of ``k`` replies drawn without replacement from
the ``n`` sampled replies to a problem is correct, given that ``c`` of the ``n`` are correct:

    pass@k = 1 - C(n - c, k) / C(n, k)

computed as the product ``1 - prod_{i = n-c+1}^{n} (1 - k / i)`` so that no binomial
coefficient (which overflows floats for n in the hundreds) is ever formed. The benchmark
value is the mean of the per-problem estimates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with ``c`` correct out of ``n`` samples.

    Raises:
        ValueError: unless ``0 <= c <= n`` and ``1 <= k <= n``.
    """
    if n < 1:
        raise ValueError(f"pass@k needs at least one sample, got n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"correct count c={c} must be in 0..n={n}")
    if not 1 <= k <= n:
        raise ValueError(
            f"pass@{k} needs 1 <= k <= n (n={n} samples per problem): raise n or lower k"
        )
    if n - c < k:  # every k-subset contains a correct sample
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean pass@k over problems given ``(n, c)`` per problem."""
    if not counts:
        raise ValueError("mean_pass_at_k needs at least one problem")
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def mean_stderr(values: Sequence[float]) -> tuple[float, float | None]:
    """``(mean, standard error)`` with the sample std (ddof=1) over ``sqrt(len)``.

    The standard error is ``None`` for fewer than two values (it is undefined).
    """
    if not values:
        raise ValueError("mean_stderr needs at least one value")
    m = len(values)
    mean = math.fsum(values) / m
    if m < 2:
        return mean, None
    var = math.fsum((v - mean) ** 2 for v in values) / (m - 1)
    return mean, math.sqrt(var / m)


def default_ks(n: int) -> tuple[int, ...]:
    """The k values reported when none are asked for: 1, the powers of two below n, and n."""
    ks = {1, n}
    p = 2
    while p < n:
        ks.add(p)
        p *= 2
    return tuple(sorted(ks))
