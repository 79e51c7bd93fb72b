"""Reading lead, account, event and outcome files into typed frames, with row-level problems.

Row numbers in problems are the ones a user sees: for CSV the header is row 1, so the first
data row is row 2 (as in a spreadsheet); for NDJSON and Parquet the first record is row 1.

Accepted cell spellings for known columns (surrounding whitespace is ignored, empty = null):

* ``id``: Int64 when every value in the file is a plain integer, otherwise String.
* ``int`` / ``float``: ``1200``, ``1,200``, ``1200.50`` (``12.0`` is a valid int).
* ``bool``: true/false, yes/no, y/n, t/f, 1/0 in any case.
* ``datetime``: ISO 8601 with or without time, with ``Z`` or an offset (converted to UTC);
  ``YYYY-MM-DD HH:MM[:SS]`` (taken as UTC); ``MM/DD/YYYY`` and ``MM/DD/YY`` — slash dates are
  always read US-style, month first, so ``01/02/2026`` is 2 January (a mapping's
  ``date_format`` can say otherwise) — also with ``2:22 PM``-style times; ``DD.MM.YYYY``
  (``5.3.2024`` too); epoch seconds (from 1e8) or milliseconds (from 1e11). Results are
  ``Datetime("us", "UTC")``.
* ``email``: stripped, ``mailto:`` dropped, lower-cased; clearly invalid addresses (no ``@``,
  spaces inside, no dot in the domain, ...) are bad cells whose problem says why.
* ``domain``: a domain, website URL or address reduced to ``acme.com``; text that is no
  domain after that is a bad cell.
* ``category``: Categorical; ``string``: String.
"""

from __future__ import annotations

import codecs
import gzip
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from leadgate.exceptions import InputDataError, Location, Problem, UsageError
from leadgate.io._coerce import infer_text_column
from leadgate.io._headers import check_required, map_headers, trim_headers
from leadgate.io._validate import parallel_map, validate
from leadgate.io.contracts import FrameContract
from leadgate.io.mappings import (
    ColumnMapping,
    apply_mapping,
    check_mapped_required,
    check_mapping_target,
)

logger = logging.getLogger(__name__)

_FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_FORMATS)
_FALLBACK = "leadgate.cp1252"
FALLBACK_ENCODING = "utf-8 with windows-1252 fallback"


def _decode_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 rejects as Windows-1252 (Latin-1 for its five holes)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    chars = []
    for byte in chunk:
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars), error.end


codecs.register_error(_FALLBACK, _decode_cp1252)


@dataclass(frozen=True)
class ReadResult:
    """A typed frame of the valid rows and the problems found in the others.

    Attributes:
        frame: Valid rows in file order; known columns renamed and converted.
        problems: One problem per bad cell, missing required value or repeated id.
        rows_read: Data rows in the file.
        rows_rejected: Rows left out of ``frame`` because they had a problem.
        column_mapping: Headers renamed to a canonical column, e.g. ``{"Lead ID": "lead_id"}``.
        encoding: How a text file was decoded (``"utf-8"`` or :data:`FALLBACK_ENCODING`);
            ``None`` for Parquet.
    """

    frame: pl.DataFrame
    problems: tuple[Problem, ...]
    rows_read: int
    rows_rejected: int
    column_mapping: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None


def file_format(path: str | Path) -> str | None:
    """``"csv"``, ``"parquet"`` or ``"ndjson"`` from the file name, or ``None`` if unknown."""
    name = Path(path).name.lower()
    return next((fmt for ext, fmt in _FORMATS.items() if name.endswith(ext)), None)


def _fail(code: str, message: str, file: str, hint: str) -> InputDataError:
    problem = Problem(code=code, message=message, location=Location(file=file), hint=hint)
    return InputDataError([problem], summary=message)


def _read_csv(path: Path) -> tuple[pl.DataFrame, str]:
    """All columns as String; UTF-8 first, then UTF-8 with a Windows-1252 fallback per byte."""
    try:
        frame = pl.scan_csv(path, infer_schema=False, raise_if_empty=False).collect()
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).lower():
            raise
    else:
        return frame, "utf-8"
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors=_FALLBACK).lstrip("\ufeff")
    logger.info("%s is not valid UTF-8; decoded stray bytes as Windows-1252", path)
    return pl.read_csv(text.encode(), infer_schema=False, raise_if_empty=False), FALLBACK_ENCODING


def _read_ndjson(path: Path) -> pl.DataFrame:
    with path.open("rb") as handle:
        if not handle.read(4096).strip():
            return pl.DataFrame()
    return pl.read_ndjson(path, infer_schema_length=None)


def _load(path: Path, fmt: str) -> tuple[pl.DataFrame, str | None]:
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "parquet":
        return pl.read_parquet(path), None
    return _read_ndjson(path), "utf-8"


def read_frame(
    path: str | Path,
    contract: FrameContract,
    *,
    skip_invalid: bool = False,
    mapping: ColumnMapping | None = None,
) -> ReadResult:
    """Read a CSV (``.csv``, ``.csv.gz``), Parquet or NDJSON (``.ndjson``, ``.jsonl``) file.

    Known columns are matched ignoring case, spaces, underscores and dashes, and converted to
    their contract type; other columns are kept (CSV: typed Int64/Float64/Boolean/String by
    looking at every value). Rows with a bad cell, an empty required value or a repeated id
    are rejected, with one problem per cell.

    Args:
        path: The file to read.
        contract: What the file must contain, e.g. ``LEADS``.
        skip_invalid: Return the valid rows and the problems instead of raising.
        mapping: A CRM column mapping (see :func:`~leadgate.io.load_mapping`) applied to the
            headers and values before the usual header matching.

    Returns:
        The valid rows, the problems, and row counts.

    Raises:
        InputDataError: The file is missing, unreadable, of unknown type, or lacks a required
            column; or any row has a problem and ``skip_invalid`` is false.
        UsageError: ``mapping`` reads another kind of file than ``contract``.
    """
    if mapping is not None:
        check_mapping_target(mapping, contract)
    file = str(path)
    path = Path(path)
    fmt = file_format(path)
    if fmt is None:
        raise _fail(
            "unsupported_format",
            f"{file} has an extension leadgate cannot read.",
            file,
            f"Use one of {', '.join(SUPPORTED_EXTENSIONS)}.",
        )
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise _fail("file_not_found", f"{file} {what}.", file, "Check the path and try again.")
    try:
        raw, encoding = _load(path, fmt)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _fail(
            "unreadable_file",
            f"{file} cannot be read as {fmt}.",
            file,
            f"Check the file is valid {fmt} ({str(exc).splitlines()[0] if str(exc) else exc!r}).",
        ) from exc
    raw = trim_headers(raw)
    renames: dict[str, str] = {}
    if mapping is not None:
        raw, renames = apply_mapping(raw, mapping)
    raw, matched = map_headers(raw, contract)
    renames.update(matched)
    for header, column in renames.items():
        logger.info("%s: reading column %r as %r", file, header, column)
    if mapping is not None:
        check_mapped_required(raw, contract, mapping, file)
    check_required(raw, contract, file)
    if fmt == "csv":
        extras = [name for name in raw.columns if name not in contract.types]
        raw = raw.with_columns(
            parallel_map(lambda name: infer_text_column(raw.get_column(name)), extras)
        )
    checked = validate(raw, contract, file=file, first_row=2 if fmt == "csv" else 1)
    if checked.problems and not skip_invalid:
        raise InputDataError(
            checked.problems,
            summary=f"{checked.rows_rejected} of {raw.height} rows of {file} have problems "
            f"({len(checked.problems)} in all); fix them, or read with skip_invalid=True "
            "to load only the valid rows.",
        )
    return ReadResult(
        frame=checked.frame,
        problems=tuple(checked.problems),
        rows_read=raw.height,
        rows_rejected=checked.rows_rejected,
        column_mapping=renames,
        encoding=encoding,
    )


def align_id_types(*columns: tuple[pl.DataFrame, str]) -> tuple[pl.DataFrame, ...]:
    """Give id columns that link frames one dtype, so they can be joined.

    When the columns disagree (e.g. Int64 lead ids in leads, String in events) all of them
    are cast to String; otherwise the frames are returned unchanged.

    Example:
        ``leads, events = align_id_types((leads, "lead_id"), (events, "lead_id"))``

    Raises:
        UsageError: A frame has no such column.
    """
    for frame, column in columns:
        if column not in frame.columns:
            raise UsageError(
                f"Cannot align ids: the frame has no column {column!r}.",
                hint=f"Columns are {', '.join(frame.columns)}.",
            )
    if len({frame.schema[column] for frame, column in columns}) <= 1:
        return tuple(frame for frame, _ in columns)
    return tuple(frame.with_columns(pl.col(column).cast(pl.String)) for frame, column in columns)
