"""Reading date/time text in the formats CRM exports use, vectorised over whole columns.

Each format is tried only on the cells no earlier format could read, so a column in one
format costs one parse and mixed columns cost little more.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")

_EPOCH = r"^\d+(\.\d+)?$"
_EPOCH_SECONDS_MIN = 1e8  # 1973-03-03; smaller numbers (e.g. 20260301) are not taken as epochs
_EPOCH_MS_MIN = 1e11  # from here on the number is read as milliseconds
_EPOCH_MS_MAX = 1e14

# Every cell is tried against these formats until one reads it (see ``to_datetime``). Formats
# with an offset (``%#z`` accepts ``Z``, ``+02``, ``+0200`` and ``+02:00``) are converted to
# UTC; the others are taken to be UTC already. Slash dates are US month/day (two-digit years
# first, so ``3/1/26`` is not year 26); dotted dates are day.month. The formats are mutually
# exclusive, so their order only affects speed.
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%SZ",  # Polars has fast paths for these fixed-width ones
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%m/%d/%y",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",  # Salesforce reports in a US locale: 3/5/2024 2:22 PM
    "%m/%d/%Y %I:%M:%S %p",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
)
_SAMPLE = 2_000


def keep(series: pl.Series, mask: pl.Series) -> pl.Series:
    """``series`` where ``mask`` is true, null elsewhere (keeps the name)."""
    return pl.select(pl.when(mask).then(series)).to_series().alias(series.name)


def _from_epoch(text: pl.Series) -> pl.Series:
    number = keep(text, text.str.contains(_EPOCH)).cast(pl.Float64, strict=False)
    micros = pl.select(
        pl.when((number >= _EPOCH_MS_MIN) & (number < _EPOCH_MS_MAX))
        .then(number * 1_000)
        .when((number >= _EPOCH_SECONDS_MIN) & (number < _EPOCH_MS_MIN))
        .then(number * 1_000_000)
    ).to_series()
    return pl.from_epoch(micros.round(0).cast(pl.Int64), time_unit="us").dt.replace_time_zone("UTC")


def _parser(fmt: str, *, aware: bool) -> Callable[[pl.Series], pl.Series]:
    def parse(text: pl.Series) -> pl.Series:
        parsed = text.str.to_datetime(fmt, time_unit="us", strict=False)
        if aware:
            return parsed.dt.convert_time_zone("UTC")
        return parsed.dt.replace_time_zone("UTC")

    return parse


_DATETIME_PARSERS: tuple[Callable[[pl.Series], pl.Series], ...] = (
    *(_parser(fmt, aware=False) for fmt in _NAIVE_FORMATS),
    *(_parser(fmt, aware=True) for fmt in _AWARE_FORMATS),
    _from_epoch,
)


def _by_sample_hits(text: pl.Series) -> list[Callable[[pl.Series], pl.Series]]:
    """The parsers, those reading most of the first cells first (stable otherwise)."""
    sample = text.head(_SAMPLE).drop_nulls()
    if len(sample) == 0:
        return list(_DATETIME_PARSERS)
    hits = [len(sample) - parse(sample).null_count() for parse in _DATETIME_PARSERS]
    order = sorted(range(len(hits)), key=lambda i: -hits[i])
    return [_DATETIME_PARSERS[i] for i in order]


def to_datetime(text: pl.Series) -> pl.Series:
    """Read stripped text as ``Datetime("us", "UTC")``; unreadable cells become null.

    Each format is tried only on the cells no earlier format could read.

    A failed attempt costs about as much as a successful one, so the formats are tried in the
    order of how many of the first cells they read, and later attempts see mostly nulls.
    """
    result = pl.repeat(None, len(text), dtype=UTC_DATETIME, eager=True)
    rest = text
    for parse in _by_sample_hits(text):
        if rest.null_count() == len(rest):
            break
        result = result.fill_null(parse(rest))
        rest = keep(text, result.is_null())
    return result.alias(text.name)


def typed_datetime(series: pl.Series) -> pl.Series | None:
    """A Datetime or Date column as ``Datetime("us", "UTC")`` (naive taken as UTC), else None."""
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        moved = series.dt.convert_time_zone("UTC") if dtype.time_zone else series
        return moved.dt.replace_time_zone("UTC").cast(UTC_DATETIME)
    if dtype == pl.Date:
        return series.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return None
