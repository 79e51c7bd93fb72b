"""Applying a contract to a raw frame: convert known columns and locate every bad cell."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from leadgate.exceptions import InputDataError, Location, Problem
from leadgate.io._coerce import BAD_CODES, Coerced, coerce
from leadgate.io.contracts import ColumnType, FrameContract
from leadgate.io.normalise import DOMAIN_HINT, EMAIL_HINT

MAX_QUOTED = 60
T = TypeVar("T")
R = TypeVar("R")

_DESCRIPTIONS: dict[ColumnType, str] = {
    "id": "an id",
    "string": "text",
    "category": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "a yes/no value",
    "datetime": "a date/time leadgate can read",
    "email": "an e-mail address",
    "domain": "a company domain",
}

_HINTS: dict[ColumnType, str] = {
    "id": "Use text or a whole number.",
    "string": "Use plain text.",
    "category": "Use plain text.",
    "int": "Write a whole number like 1200 or 1,200, or leave the cell empty.",
    "float": "Write a number with a dot for decimals, like 1200.50 or 1,200.50, "
    "or leave the cell empty.",
    "bool": "Write true/false, yes/no, y/n, t/f or 1/0, or leave the cell empty.",
    "email": EMAIL_HINT,
    "domain": DOMAIN_HINT,
    "datetime": "Use ISO 8601 like 2026-03-01T12:00:00Z. Also accepted: 2026-03-01, "
    "2026-03-01 12:00:00 (taken as UTC), MM/DD/YYYY (US month first, also with a time like "
    "2:22 PM), DD.MM.YYYY, "
    "and epoch seconds or milliseconds.",
}


@dataclass(frozen=True)
class Validated:
    """The valid rows with known columns converted, and what was wrong with the others."""

    frame: pl.DataFrame
    problems: list[Problem]
    rows_rejected: int


def quote(value: object) -> str:
    """``repr`` of a cell value, shortened to at most :data:`MAX_QUOTED` characters."""
    text = str(value)
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 1] + "…"
    return repr(text)


def _as_text(values: pl.Series) -> list[str]:
    try:
        return [str(v) for v in values.cast(pl.String).to_list()]
    except pl.exceptions.PolarsError:
        return [str(v) for v in values.to_list()]


def _cell_problems(
    coerced: Coerced, rows: pl.Series, *, file: str, column: str, ctype: ColumnType
) -> list[Problem]:
    mask = coerced.bad
    if mask is None:
        return []
    values = _as_text(coerced.source.filter(mask))
    bad_rows = rows.filter(mask).to_list()
    if coerced.reasons is None:
        reasons: list[str] = [""] * len(bad_rows)
    else:
        reasons = [f": {reason}" for reason in coerced.reasons.filter(mask).to_list()]
    return [
        Problem(
            code=BAD_CODES[ctype],
            message=f"{value} is not {_DESCRIPTIONS[ctype]}{reason}.",
            location=Location(file=file, row=row, field=column),
            hint=_HINTS[ctype],
        )
        for row, value, reason in zip(bad_rows, map(quote, values), reasons, strict=True)
    ]


def _missing_problems(mask: pl.Series, rows: pl.Series, *, file: str, column: str) -> list[Problem]:
    return [
        Problem(
            code="missing_value",
            message=f"Required column {column!r} is empty.",
            location=Location(file=file, row=row, field=column),
            hint=f"Every row needs a {column}; fill it in or remove the row.",
        )
        for row in rows.filter(mask).to_list()
    ]


def _duplicates(
    ids: pl.Series, rows: pl.Series, *, file: str, column: str
) -> tuple[pl.Series | None, list[Problem]]:
    """Rows repeating an earlier id: their mask and one ``duplicate_id`` problem each."""
    present = ids if ids.null_count() == 0 else ids.drop_nulls()
    keys = present if present.dtype.is_integer() else present.hash()
    if keys.n_unique() == len(present):  # fast check; a hash collision only costs time
        return None, []
    dup = ids.is_not_null() & ~ids.is_first_distinct()
    if not dup.any():
        return None, []
    table = pl.DataFrame({"id": ids, "row": rows, "dup": dup})
    repeats = table.filter("dup").join(
        table.filter(~pl.col("dup")).select("id", first="row"), on="id", how="left"
    )
    problems = [
        Problem(
            code="duplicate_id",
            message=f"{column} {quote(value)} already appears in row {first}; "
            "only the first occurrence is kept.",
            location=Location(file=file, row=row, field=column),
            hint=f"Give every row its own {column} or remove the repeated rows.",
        )
        for value, row, first in repeats.select("id", "row", "first").iter_rows()
    ]
    return dup, problems


def parallel_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``list(map(function, items))`` on a few threads; Polars releases the GIL while working."""
    todo = list(items)
    if len(todo) < 2:
        return [function(item) for item in todo]
    workers = min(len(todo), max(1, min(pl.thread_pool_size(), os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, todo))


def _try_coerce(series: pl.Series, ctype: ColumnType) -> Coerced | pl.exceptions.PolarsError:
    try:
        return coerce(series, ctype)
    except pl.exceptions.PolarsError as exc:
        return exc


def validate(raw: pl.DataFrame, contract: FrameContract, *, file: str, first_row: int) -> Validated:
    """Convert the known columns of ``raw`` and reject every row with a bad or missing cell.

    Args:
        raw: The frame as read, with headers already mapped to canonical names.
        contract: The contract to apply.
        file: File name used in problem locations.
        first_row: Row number of the first record as the user counts it (2 for CSV).

    Raises:
        InputDataError: A known column holds nested data that cannot be converted at all.
    """
    rows = pl.int_range(first_row, first_row + raw.height, eager=True, dtype=pl.Int64)
    rejected = pl.repeat(False, raw.height, dtype=pl.Boolean, eager=True)
    problems: list[Problem] = []
    converted: list[pl.Series] = []
    known = [column for column in raw.columns if column in contract.types]
    results = parallel_map(
        lambda column: _try_coerce(raw.get_column(column), contract.types[column]), known
    )
    for column, result in zip(known, results, strict=True):
        ctype = contract.types[column]
        if isinstance(result, pl.exceptions.PolarsError):
            problem = Problem(
                code="bad_column_type",
                message=f"Column {column!r} has type {raw.schema[column]}, not {ctype}.",
                location=Location(file=file, field=column),
                hint=f"Store {column} as {_DESCRIPTIONS[ctype]} ({result}).",
            )
            summary = f"{file}: column {column!r} cannot be used."
            raise InputDataError([problem], summary=summary) from result
        converted.append(result.values)
        if result.bad is not None:
            rejected |= result.bad
            problems += _cell_problems(result, rows, file=file, column=column, ctype=ctype)
        if column in contract.required:
            missing = result.values.is_null()
            if result.bad is not None:
                missing &= ~result.bad
            if missing.any():
                rejected |= missing
                problems += _missing_problems(missing, rows, file=file, column=column)
    frame = raw.with_columns(converted)
    if contract.unique is not None and contract.unique in frame.columns:
        dup, found = _duplicates(
            frame.get_column(contract.unique), rows, file=file, column=contract.unique
        )
        if dup is not None:
            rejected |= dup
            problems += found
    order = {name: index for index, name in enumerate(raw.columns)}
    problems.sort(key=lambda p: (p.location.row or 0, order.get(p.location.field or "", 0)))
    count = int(rejected.sum())
    return Validated(frame.filter(~rejected) if count else frame, problems, count)
