"""The blended grade: the rule model's fit letter and the predictor's probability letter,
combined into one grade shown next to the rule grade.

* **Probability letter** (``p_grade``): ``p_convert`` against lower bounds for A, B and C
  (else D). The bounds come from the model (``learning.blended_grade.probability``) or, by
  default, from the predictor's own out-of-fold probabilities on its training leads: the top
  10 % are A, the next 20 % B, the next 30 % C and the remaining 40 % D.
* **Blended letter**: letters count A = 1 … D = 4; the blended letter is
  ``fit + w × (probability − fit)`` rounded to the nearest letter, a half going towards the
  probability letter (the evidence), with ``w`` = ``learning.blended_grade.predictor_weight``
  (default 0.5). ``w = 0`` keeps the rule letter, ``w = 1`` takes the probability letter.
* **Blended grade** = the blended letter + the rule grade's engagement digit (1–4), because
  the digit says how active the lead is *now*, which the rule engine measures directly.

Pure Polars expressions: the same on one lead or on millions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

Floats = npt.NDArray[np.float64]
LETTERS = ("A", "B", "C", "D")
#: Shares of the training leads that get the probability letters A, B and C (cumulative).
DEFAULT_SHARES = (0.10, 0.30, 0.60)
DEFAULT_PREDICTOR_WEIGHT = 0.5
P_GRADE = "p_grade"
BLENDED_GRADE = "blended_grade"


def probability_bounds(
    p: Floats, shares: Sequence[float] = DEFAULT_SHARES
) -> tuple[tuple[str, float], ...]:
    """Lower bounds of p for A, B and C so that the given cumulative shares of ``p`` (the
    training leads' out-of-fold probabilities) reach each letter."""
    if not len(p):
        return ()
    cuts = np.quantile(np.asarray(p, dtype=np.float64), [1 - share for share in shares])
    return tuple((letter, round(float(cut), 6)) for letter, cut in zip(LETTERS, cuts, strict=False))


def p_grade_expr(p: pl.Expr, bounds: Sequence[tuple[str, float]]) -> pl.Expr:
    """The probability letter: the best letter whose lower bound ``p`` reaches, else D."""
    if not bounds:
        return pl.lit(None, pl.String)
    letter = pl.lit("D")
    for name, bound in sorted(bounds, key=lambda pair: pair[1]):  # lowest first, best wins
        letter = pl.when(p >= bound).then(pl.lit(name)).otherwise(letter)
    return pl.when(p.is_null()).then(pl.lit(None, pl.String)).otherwise(letter)


def _rank(letter: pl.Expr) -> pl.Expr:
    return letter.replace_strict(list(LETTERS), [1, 2, 3, 4], default=None, return_dtype=pl.Int32)


def blended_letter_expr(fit_grade: pl.Expr, p_grade: pl.Expr, weight: float) -> pl.Expr:
    """``fit + weight × (probability − fit)`` in letter ranks, halves towards the probability."""
    fit, prob = _rank(fit_grade), _rank(p_grade)
    gap = prob - fit
    # 1e-9: 0.5 × 1 must count as a half even after floating-point rounding.
    step = ((gap.abs() * weight) + 0.5 + 1e-9).floor().cast(pl.Int32) * gap.sign()
    blended = (fit + step).clip(1, 4)
    return blended.replace_strict([1, 2, 3, 4], list(LETTERS), default=None, return_dtype=pl.String)


def blended_grade_expr(
    fit_grade: pl.Expr, engagement_grade: pl.Expr, p_grade: pl.Expr, weight: float
) -> pl.Expr:
    """Blended letter + the rule's engagement digit, e.g. fit ``C``, p-letter ``A``, digit
    ``2`` and weight 0.5 → ``B2``. Missing when either letter is missing."""
    return pl.concat_str(
        [blended_letter_expr(fit_grade, p_grade, weight), engagement_grade.cast(pl.String)]
    )
