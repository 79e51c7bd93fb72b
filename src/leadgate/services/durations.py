"""Durations typed by people: ``30d``, ``12h``, ``90m``, ``45s``, ``2w`` or ``1d12h``.

One grammar for every option that takes one (``--decision-delay``, ``--cadence``,
``--older-than``, ``--grace``); each caller says whether fractions and a bare number are
allowed. (Model SLA durations such as ``4h working`` are the model's own grammar.)
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from leadgate.exceptions import UsageError

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_SECONDS: Final = 36_500 * 86_400
"""A hundred years: anything longer is a typo."""


def parse_duration(
    text: str,
    *,
    what: str = "",
    fractions: bool = True,
    bare_unit: str | None = None,
    hint: str = "a number and a unit: 30d, 12h, 90m, 45s or 2w (combinations like 1d12h)",
) -> timedelta:
    """Read a duration of at most :data:`MAX_SECONDS`.

    Args:
        text: What the person typed.
        what: The option it came from, for the message (``"--grace"``).
        fractions: Allow ``1.5d``.
        bare_unit: The unit of a number given without one (``"d"``: ``0`` is no time);
            ``None`` refuses a bare number.
        hint: How to write one, for the message.

    Raises:
        UsageError: Anything else (code ``bad_duration``).
    """
    cleaned = text.strip().lower()
    if bare_unit is not None and re.fullmatch(r"\d+(?:\.\d+)?", cleaned):
        cleaned += bare_unit
    parts = _PART.findall(cleaned)
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts)
    fractional = any("." in n for n, _ in parts)
    if (
        not parts
        or _PART.sub("", cleaned).strip()
        or (fractional and not fractions)
        or seconds > MAX_SECONDS
    ):
        prefix = f"{what} " if what else ""
        raise UsageError(
            f"{prefix}{text!r} is not a duration (of at most 100 years).",
            hint=hint,
            code="bad_duration",
        )
    return timedelta(seconds=seconds)


__all__ = ["MAX_SECONDS", "parse_duration"]
