"""Small vectorised helpers shared by the synthetic-data modules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
CodeArray = npt.NDArray[np.integer]

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UTC_US = pl.Datetime("us", "UTC")


def words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words, de-duplicated in order; ``_`` stands for a space in a word."""
    return tuple(dict.fromkeys(w.replace("_", " ") for w in text.split()))


def to_epoch_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a tz-aware datetime."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def choose(rng: np.random.Generator, weights: Sequence[float] | FloatArray, size: int) -> IntArray:
    """Draw ``size`` indices into ``weights`` with probability proportional to the weights."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    idx = np.searchsorted(cum, rng.random(size) * cum[-1], side="right")
    out: IntArray = np.minimum(idx, len(cum) - 1).astype(np.int64)
    return out


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def strings(
    values: Sequence[str], idx: CodeArray, name: str, mask: BoolArray | None = None
) -> pl.Series:
    """A String series ``values[idx]``, null where ``mask`` is False."""
    safe = np.asarray(idx) if mask is None else np.where(mask, idx, 0)
    codes = pl.Series(name, safe.astype(np.uint32))
    out = pl.Series(name, list(values), dtype=pl.String).gather(codes)
    if mask is None:
        return out
    return pl.select(pl.when(pl.Series(mask)).then(out)).to_series().alias(name)


def categorical(
    values: Sequence[str], idx: CodeArray, name: str, mask: BoolArray | None = None
) -> pl.Series:
    """A Categorical series ``values[idx]`` built from codes, null where ``mask`` is False."""
    dtype = np.uint8 if len(values) <= 256 else np.uint16
    codes = (np.asarray(idx) if mask is None else np.where(mask, idx, 0)).astype(dtype, copy=False)
    data = codes if mask is None else np.ma.masked_array(codes, mask=~mask)
    enum = pl.Series(name, data).cat.to(pl.Enum(list(values)))
    return enum.cast(pl.Categorical)


def datetimes(us: IntArray, name: str, mask: BoolArray | None = None) -> pl.Series:
    """A ``Datetime("us", "UTC")`` series from epoch microseconds, null where ``mask`` is False."""
    data = us if mask is None else np.ma.masked_array(us, mask=~mask)
    return pl.Series(name, data, dtype=pl.Int64).cast(UTC_US)


def numbers(
    values: npt.NDArray[np.generic], name: str, dtype: pl.DataType, mask: BoolArray | None = None
) -> pl.Series:
    """A numeric or Boolean series, null where ``mask`` is False."""
    data = values if mask is None else np.ma.masked_array(values, mask=~mask)
    return pl.Series(name, data).cast(dtype)
