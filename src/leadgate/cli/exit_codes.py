"""Exit codes of the ``leadgate`` command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INVALID_MODEL = 2
    INVALID_INPUT = 3
    USAGE = 4
    NOT_MIGRATED = 5
    STORAGE = 6
    NOT_ALLOWED = 7
    NOT_FOUND = 8
    ERROR = 1
