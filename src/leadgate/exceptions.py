"""The single error tree: every error has a stable ``code``, a message and a ``hint``.

Entry points map these to an exit code or an HTTP problem in exactly one place each.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, and a line/column or a row/column in it."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        if self.row is not None:
            text += f" row {self.row}"
        if self.field:
            text += f" column {self.field!r}"
        return text.strip()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with where it is and how to fix it."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    path: str = ""
    hint: str = ""

    def __str__(self) -> str:
        where = str(self.location)
        head = f"{where} " if where else ""
        subject = f"{self.path} " if self.path else ""
        text = f"{head}{subject}{self.message}".strip()
        if self.hint:
            text += f" Hint: {self.hint}"
        return f"[{self.code}] {text}"


class LeadgateError(Exception):
    """Base of every error leadgate raises on purpose."""

    code = "leadgate_error"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} Hint: {self.hint}" if self.hint else self.message


class ProblemsError(LeadgateError):
    """An error that carries one or more located problems."""

    def __init__(self, problems: list[Problem], *, summary: str) -> None:
        super().__init__(summary, code=self.code)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        return "\n".join(lines)


class ModelError(ProblemsError):
    """The qualification model file is malformed or inconsistent."""

    code = "model_invalid"


class InputDataError(ProblemsError):
    """Lead, account or event data does not match its contract."""

    code = "input_invalid"


class ArtifactError(LeadgateError):
    """A compiled model artifact cannot be read."""

    code = "artifact_invalid"


class UsageError(LeadgateError):
    """A command or function was called with arguments that cannot work together."""

    code = "usage"


class StorageError(LeadgateError):
    """The database refused a write or a read (constraint, connection, bad frame)."""

    code = "storage"


class DatabaseNotMigratedError(StorageError):
    """The database schema is missing or older than this version of leadgate expects."""

    code = "db_not_migrated"

    def __init__(self, current: str | None, expected: str) -> None:
        at = f"revision {current!r}" if current else "no revision (empty database)"
        super().__init__(
            f"The database is at {at}; this leadgate expects revision {expected!r}.",
            hint="run `leadgate db upgrade`",
            code=self.code,
        )
        self.current = current
        self.expected = expected


class TransitionError(LeadgateError):
    """A lifecycle action is not allowed from the lead's current stage."""

    code = "transition_not_allowed"


class NotFoundError(LeadgateError):
    """A lead, account or other record that was asked for does not exist."""

    code = "not_found"


class PermissionDeniedError(LeadgateError):
    """The caller may not see or change this record (e.g. a sales key and another rep's lead)."""

    code = "forbidden"


class ConflictError(LeadgateError):
    """The request contradicts what is stored (e.g. an e-mail that belongs to another lead)."""

    code = "conflict"
