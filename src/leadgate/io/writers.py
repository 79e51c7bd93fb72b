"""Writing frames and problem reports to CSV, Parquet or NDJSON.

CSV output is meant to be opened in spreadsheets, so it is made safe and flat: text cells
(and headers) that a spreadsheet would run as a formula get a leading ``'``, datetimes are
ISO 8601 in UTC (``2026-03-01T12:00:00Z``), lists are joined with ``"; "`` and structs are
written as JSON.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import polars as pl
from polars.datatypes import DataTypeClass

from leadgate.exceptions import Problem, UsageError

_WRITABLE = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
WRITABLE_EXTENSIONS: tuple[str, ...] = tuple(_WRITABLE)

FORMULA_PREFIX = r"^[=+\-@\t\r]"
LIST_SEPARATOR = "; "
ISO_UTC = "%Y-%m-%dT%H:%M:%S%.fZ"

REPORT_COLUMNS = ("file", "row", "column", "code", "message", "hint")


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def neutralise_formulas(expr: pl.Expr) -> pl.Expr:
    """Prefix ``'`` to text that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return."""
    return expr.cast(pl.String).str.replace(f"({FORMULA_PREFIX})", "'$1")


def _iso_utc(expr: pl.Expr, dtype: pl.Datetime) -> pl.Expr:
    utc = expr.dt.convert_time_zone("UTC") if dtype.time_zone else expr
    return utc.dt.to_string(ISO_UTC)


def _flat(name: str, dtype: pl.DataType) -> pl.Expr:
    """One column as a CSV-friendly expression (text or a number/bool/date Polars can write)."""
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return _iso_utc(col, dtype)
    if isinstance(dtype, pl.Array):
        return _flat_list(col.arr.to_list(), dtype.inner)
    if isinstance(dtype, pl.List):
        return _flat_list(col, dtype.inner)
    if isinstance(dtype, pl.Struct):
        return neutralise_formulas(col.struct.json_encode())
    if _is_text(dtype):
        return neutralise_formulas(col)
    return col


def _flat_list(col: pl.Expr, inner: pl.DataType | DataTypeClass) -> pl.Expr:
    if isinstance(inner, pl.Datetime):
        element = _iso_utc(pl.element(), inner)
    elif isinstance(inner, pl.List | pl.Array | pl.Struct):
        raise UsageError(
            "Cannot write nested lists or lists of structs to CSV.",
            hint="Write Parquet or NDJSON instead, or flatten the column first.",
        )
    else:
        element = pl.element().cast(pl.String)
    return neutralise_formulas(col.list.eval(element).list.join(LIST_SEPARATOR))


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as it is written to CSV: flat, ISO datetimes, formula-safe text and headers."""
    flat = frame.select(_flat(name, dtype).alias(name) for name, dtype in frame.schema.items())
    headers = pl.Series(flat.columns, dtype=pl.String).str.replace(f"({FORMULA_PREFIX})", "'$1")
    return flat.rename(dict(zip(flat.columns, headers.to_list(), strict=True)))


def _check_folder(target: Path) -> None:
    if not target.parent.is_dir():
        raise UsageError(
            f"Cannot write {target}: the folder {target.parent} does not exist.",
            hint="Create the folder first.",
        )


def _format_of(target: Path) -> str:
    name = target.name.lower()
    fmt = next((f for ext, f in _WRITABLE.items() if name.endswith(ext)), None)
    if fmt is None:
        raise UsageError(
            f"Cannot write {target}: unknown file type.",
            hint=f"Use one of {', '.join(WRITABLE_EXTENSIONS)}.",
        )
    return fmt


def _write(frame: pl.DataFrame, target: Path, fmt: str) -> None:
    """Write to a hidden sibling file, then move it in place."""
    _check_folder(target)
    partial = target.with_name(f".{target.name}.partial")
    try:
        if fmt == "csv":
            gz = target.name.lower().endswith(".gz")
            csv_safe(frame).write_csv(
                partial, compression="gzip" if gz else "uncompressed", check_extension=False
            )
        elif fmt == "parquet":
            frame.write_parquet(partial)
        else:
            frame.write_ndjson(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def write_frame(frame: pl.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as CSV (``.csv``, ``.csv.gz``), Parquet or NDJSON by extension.

    The file is written next to its destination and moved in place, so a failed write never
    leaves a half-written file behind. CSV is made spreadsheet-safe (see :func:`csv_safe`).

    Raises:
        UsageError: Unknown extension, missing folder, or data CSV cannot hold.
    """
    target = Path(path)
    _write(frame, target, _format_of(target))


def problems_frame(problems: Iterable[Problem]) -> pl.DataFrame:
    """Problems as a frame with the columns of :data:`REPORT_COLUMNS`."""
    records = [
        (p.location.file, p.location.row, p.location.field, p.code, p.message, p.hint)
        for p in problems
    ]
    schema = dict(zip(REPORT_COLUMNS, (pl.String, pl.Int64, *[pl.String] * 4), strict=True))
    return pl.DataFrame(records, schema=schema, orient="row")


def write_problems_report(problems: Iterable[Problem], path: str | Path) -> None:
    """Write problems as a spreadsheet-safe CSV with columns ``file,row,column,code,message,hint``.

    The report is CSV whatever the extension; ``row`` is empty for file-level problems.

    Raises:
        UsageError: The folder does not exist.
    """
    _write(problems_frame(problems), Path(path), "csv")
