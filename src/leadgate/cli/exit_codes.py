"""Exit codes of the ``leadgate`` command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INVALID_MODEL = 2
    INVALID_INPUT = 3
    USAGE = 4
    ERROR = 1
