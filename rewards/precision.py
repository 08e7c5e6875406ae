"""The precision policy: when a number written with decimals matches an exact value.

A decimal states its own precision: ``3.1416`` says "this value, to 4 decimal places". The rules,
applied to every pair of numbers (in-process by :mod:`.numbers`, symbolically by
:mod:`.equivalence`):

1. Two exact values compare exactly. A decimal is exact when the other side is exact and
   terminating: ``0.5`` equals ``1/2``, ``1`` does not equal ``1.0000001``, and a reply with a
   wrong 7th decimal does not equal a 6-decimal gold.
2. A decimal matches an irrational or recurring value (``\\pi``, ``\\sqrt{2}``, ``1/3``) only when
   it is that value correctly rounded to the decimal places it states (``3.1416`` and
   ``3.14159`` for pi, not ``3.1415``) and it states at least ``min_significant_digits``
   significant digits (``MathVerifyConfig.min_significant_digits``, 4 by default, so ``3.14`` is
   not pi and ``0.333`` is not 1/3). The rule applies whichever side, gold or reply, is the
   decimal.
3. Opt-in, off by default: ``rel_tol`` (relative tolerance whenever a side is a decimal) and
   ``float_rounding`` (math-verify's: both sides rounded to that many places agree).

A decimal's stated precision: ``places`` (decimal places; negative for ``1.5e3``, which states
hundreds) and ``significant`` (digits from the first non-zero one). Trailing zeros count:
``2.50`` states 2 places.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Stated", "is_terminating", "rounding_matches", "stated_precision"]


@dataclass(frozen=True)
class Stated:
    """The precision a decimal states: ``places`` decimal places, ``significant`` digits."""

    places: int
    significant: int

    def scaled(self, power_of_ten: int) -> Stated:
        """The precision of the value divided by ``10**power_of_ten`` (``45.5%`` -> ``0.455``)."""
        return Stated(self.places + power_of_ten, self.significant)


def stated_precision(mantissa: str, exponent: int = 0) -> Stated:
    """The precision of a decimal written as ``mantissa`` (digits and a point) times 10^exponent.

    >>> stated_precision("3.1416")
    Stated(places=4, significant=5)
    >>> stated_precision("1.5", 3)
    Stated(places=-2, significant=2)
    """
    whole, _, frac = mantissa.lstrip("+-").partition(".")
    digits = (whole + frac).lstrip("0")
    return Stated(places=len(frac) - exponent, significant=len(digits))


def is_terminating(x: Fraction) -> bool:
    """Whether ``x`` has a finite decimal expansion (its denominator is 2^a 5^b)."""
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def rounding_matches(exact: Fraction, decimal: Fraction, stated: Stated, min_sig: int) -> bool:
    """Rule 2: ``decimal`` is ``exact`` correctly rounded to ``stated.places`` places, with at
    least ``min_sig`` significant digits. ``exact`` must be recurring or irrational (the caller
    passes a high-precision approximation of an irrational value); a terminating exact value
    never matches a different decimal."""
    if stated.significant < min_sig:
        return False
    return round(exact, stated.places) == decimal
