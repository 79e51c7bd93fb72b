"""Matching file headers to the canonical column names of a contract."""

from __future__ import annotations

import difflib
import re

import polars as pl

from leadgate.exceptions import InputDataError, Location, Problem
from leadgate.io.contracts import FrameContract

_IGNORED = re.compile(r"[\s_\-]+")
_MAX_LISTED = 25


def header_key(name: str) -> str:
    """The form headers are compared in: lower case, without spaces, underscores or dashes."""
    return _IGNORED.sub("", name.strip().lstrip("\ufeff")).lower()


def trim_headers(frame: pl.DataFrame) -> pl.DataFrame:
    """Strip whitespace and a stray byte-order mark from every header (unless that collides)."""
    taken = set(frame.columns)
    renames: dict[str, str] = {}
    for name in frame.columns:
        trimmed = name.lstrip("\ufeff").strip()
        if trimmed != name and trimmed not in taken:
            renames[name] = trimmed
            taken.add(trimmed)
    return frame.rename(renames) if renames else frame


def map_headers(
    frame: pl.DataFrame, contract: FrameContract
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Rename headers that spell a known column differently ("Lead ID" → ``lead_id``).

    An exact header always wins; otherwise the first header whose :func:`header_key` equals
    the column's key is used. Returns the renamed frame and the ``{header: column}`` renames.
    """
    present = set(frame.columns)
    by_key: dict[str, str] = {}
    for name in frame.columns:
        by_key.setdefault(header_key(name), name)
    renames: dict[str, str] = {}
    for column in contract.types:
        if column in present:
            continue
        header = by_key.get(header_key(column))
        if header is not None and header not in renames and header not in contract.types:
            renames[header] = column
    return (frame.rename(renames) if renames else frame), renames


def check_required(frame: pl.DataFrame, contract: FrameContract, file: str) -> None:
    """Raise :class:`InputDataError` with one ``missing_column`` problem per absent column."""
    missing = [col for col in contract.required if col not in frame.columns]
    if not missing:
        return
    headers = frame.columns
    keys = {header_key(h): h for h in reversed(headers)}
    if headers:
        listed = ", ".join(repr(h) for h in headers[:_MAX_LISTED])
        more = f" and {len(headers) - _MAX_LISTED} more" if len(headers) > _MAX_LISTED else ""
        found = f"The file has the columns {listed}{more}."
    else:
        found = "The file has no header row (is it empty?)."
    problems = []
    for column in missing:
        close = difflib.get_close_matches(header_key(column), list(keys), n=1, cutoff=0.6)
        guess = f" Did you mean {keys[close[0]]!r}? Rename it to {column!r}." if close else ""
        problems.append(
            Problem(
                code="missing_column",
                message=f"Required column {column!r} of the {contract.name} file is missing.",
                location=Location(file=file, field=column),
                hint=f"{found}{guess}",
            )
        )
    names = ", ".join(missing)
    raise InputDataError(
        problems, summary=f"{file} cannot be read as {contract.name}: missing column(s) {names}."
    )
