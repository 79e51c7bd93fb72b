"""Open the store, and report or bring its schema up to date."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadgate.storage import current_revision, head_revision, make_engine, require_current, upgrade

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class DatabaseStatus:
    """Where a database's schema is, and where this leadgate wants it."""

    url: str
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def redact(url: str) -> str:
    """The URL with any password hidden, safe to print or log."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


@contextmanager
def open_database(url: str) -> Iterator[Engine]:
    """An engine on a migrated database, disposed of when the block ends.

    Raises:
        DatabaseNotMigratedError: The schema is missing or behind; run ``leadgate db upgrade``.
    """
    engine = make_engine(url)
    try:
        require_current(engine)
        yield engine
    finally:
        engine.dispose()


def database_status(url: str) -> DatabaseStatus:
    engine = make_engine(url)
    try:
        return DatabaseStatus(redact(url), current_revision(engine), head_revision())
    finally:
        engine.dispose()


def upgrade_database(url: str) -> DatabaseStatus:
    """Create or migrate the schema to the newest revision (safe to run again)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        return DatabaseStatus(redact(url), current_revision(engine), head_revision())
    finally:
        engine.dispose()


__all__ = ["DatabaseStatus", "database_status", "open_database", "redact", "upgrade_database"]
