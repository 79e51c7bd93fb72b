"""Vectorised conversion of raw columns to the logical types of a contract.

Every function works on whole :class:`polars.Series`; no Python code runs per row. A cell is
*bad* when it holds text that cannot be read as the column's type; empty cells are null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from leadgate.io._datetimes import keep, to_datetime, typed_datetime
from leadgate.io.contracts import ColumnType
from leadgate.io.normalise import (
    domain_problem,
    email_problem,
    normalise_domain,
    normalise_email,
)

TRUE_WORDS = ("true", "yes", "y", "t", "1")
FALSE_WORDS = ("false", "no", "n", "f", "0")
_BOOL_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}

_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"

_SAMPLE = 2_000

BAD_CODES: dict[ColumnType, str] = {
    "id": "bad_id",
    "string": "bad_string",
    "category": "bad_category",
    "int": "bad_int",
    "float": "bad_float",
    "bool": "bad_bool",
    "datetime": "bad_datetime",
    "email": "bad_email",
    "domain": "bad_domain",
}


@dataclass(frozen=True)
class Coerced:
    """A converted column, which cells were bad, and the source to quote in messages.

    ``reasons`` says why each bad cell is bad, for types that can tell (e-mail, domain).
    """

    values: pl.Series
    bad: pl.Series | None
    source: pl.Series
    reasons: pl.Series | None = None


def _bad(text: pl.Series, values: pl.Series) -> pl.Series | None:
    """Cells that had text but produced no value; ``None`` when there are none."""
    bad = text.is_not_null() & values.is_null()
    return bad if bad.any() else None


def clean_text(series: pl.Series) -> pl.Series:
    """Strip surrounding whitespace and turn empty strings into nulls."""
    stripped = series.str.strip_chars()
    empty = stripped.str.len_bytes() == 0
    return keep(stripped, ~empty) if empty.any() else stripped


def _number_text(text: pl.Series) -> pl.Series:
    """Remove well-formed thousands separators (``1,200.50``); other commas make the cell null."""
    has_comma = text.str.contains(",", literal=True)
    if not has_comma.any():
        return text
    grouped = text.str.contains(_THOUSANDS)
    fixed = text.str.replace_all(",", "", literal=True)
    return (
        pl.select(pl.when(~has_comma).then(text).when(grouped).then(fixed))
        .to_series()
        .alias(text.name)
    )


def _to_int(text: pl.Series) -> pl.Series:
    number = _number_text(text)
    values = number.cast(pl.Int64, strict=False)
    rest = number.is_not_null() & values.is_null()
    if not rest.any():
        return values
    floats = keep(number, rest).cast(pl.Float64, strict=False)
    return values.fill_null(keep(floats, _whole(floats)).cast(pl.Int64))


def _whole(floats: pl.Series) -> pl.Series:
    """Finite whole numbers that fit Int64; null stays null."""
    return floats.is_finite() & (floats == floats.round(0)) & (floats.abs() < 2.0**62)


def _to_float(text: pl.Series) -> pl.Series:
    values = _number_text(text).cast(pl.Float64, strict=False)
    return keep(values, values.is_finite())


def _to_bool(text: pl.Series) -> pl.Series:
    return text.str.to_lowercase().replace_strict(
        _BOOL_WORDS, default=None, return_dtype=pl.Boolean
    )


def _to_id(text: pl.Series) -> pl.Series:
    """Int64 when every value is a canonical integer (no ``+`` or leading zeros), else String."""
    as_int = text.cast(pl.Int64, strict=False)
    if as_int.null_count() != text.null_count():
        return text
    padded = (
        (text.str.starts_with("0") & (text.str.len_bytes() > 1))
        | text.str.starts_with("-0")
        | text.str.starts_with("+")
    )
    return text if padded.any() else as_int


def _to_string(text: pl.Series) -> pl.Series:
    return text


def _to_category(text: pl.Series) -> pl.Series:
    return text.cast(pl.Categorical)


_FROM_TEXT: dict[ColumnType, Callable[[pl.Series], pl.Series]] = {
    "id": _to_id,
    "string": _to_string,
    "category": _to_category,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "datetime": to_datetime,
}


def _typed_fast_path(series: pl.Series, ctype: ColumnType) -> pl.Series | None:
    """The converted column when ``series`` already has a compatible non-text dtype."""
    dtype = series.dtype
    values: pl.Series | None = None
    if ctype in ("id", "int") and dtype.is_integer():
        values = series.cast(pl.Int64, strict=False)
    elif ctype == "id" and dtype.is_float() and _whole(series).all():
        values = series.cast(pl.Int64)  # e.g. pandas' float ids with NaN holes
    elif ctype == "float" and dtype.is_numeric():
        values = keep(series.cast(pl.Float64), series.cast(pl.Float64).is_finite())
    elif ctype == "datetime":
        values = typed_datetime(series)
    elif (ctype == "bool" and dtype == pl.Boolean) or (
        ctype == "category" and dtype == pl.Categorical
    ):
        values = series
    return values


_CHECKED: dict[ColumnType, tuple[Callable[[pl.Expr], pl.Expr], Callable[[pl.Expr], pl.Expr]]] = {
    "email": (normalise_email, email_problem),
    "domain": (normalise_domain, domain_problem),
}


def _checked(text: pl.Series, ctype: ColumnType) -> Coerced:
    """Normalise text and reject the cells the type's check finds a reason against."""
    normalise, problem = _CHECKED[ctype]
    value = normalise(pl.lit(text))
    checked = pl.select(value=value, reason=problem(value))
    reasons = checked.get_column("reason")
    bad = reasons.is_not_null()
    if not bad.any():
        return Coerced(checked.get_column("value").alias(text.name), None, text)
    values = keep(checked.get_column("value"), ~bad).alias(text.name)
    return Coerced(values, bad, text, reasons)


def coerce(series: pl.Series, ctype: ColumnType) -> Coerced:
    """Convert one column to ``ctype``.

    Raises:
        polars.exceptions.InvalidOperationError: The column holds nested data that has no
            text form (structs, lists) for a scalar type.
    """
    if ctype in _CHECKED:
        return _checked(series.cast(pl.String), ctype)
    if series.dtype != pl.String:
        values = _typed_fast_path(series, ctype)
        if values is not None:
            return Coerced(values.alias(series.name), _bad(series, values), series)
        series = series.cast(pl.String)
    text = clean_text(series)
    values = _FROM_TEXT[ctype](text)
    return Coerced(values, _bad(text, values), text)


def infer_text_column(series: pl.Series) -> pl.Series:
    """Type an unknown text column like Polars' CSV inference, but over every value.

    Int64 if every value is an integer, else Float64 if every value is a number, else Boolean
    if every value is true/false, else the text unchanged.
    """
    non_null = len(series) - series.null_count()
    if non_null == 0:
        return series
    sample = series.head(_SAMPLE).drop_nulls()
    for dtype in (pl.Int64, pl.Float64):
        if sample.cast(dtype, strict=False).null_count():
            continue  # cheap rejection before converting the whole column
        cast = series.cast(dtype, strict=False)
        if len(cast) - cast.null_count() == non_null:
            return cast
    if not sample.str.to_lowercase().is_in(["true", "false"]).all():
        return series
    lowered = series.str.to_lowercase()
    if lowered.is_in(["true", "false"]).sum() == non_null:
        return lowered == "true"
    return series
