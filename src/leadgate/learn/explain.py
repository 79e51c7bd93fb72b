"""Per-lead explanations in words from the booster's and the linear model's own contributions
(log-odds), and global importances."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from leadgate.learn.predictor import Predictor

Floats = npt.NDArray[np.float64]
P_REASONS_UP = "p_reasons_up"
P_REASONS_DOWN = "p_reasons_down"


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: str
    log_odds: float

    def __str__(self) -> str:
        direction = "raises" if self.log_odds > 0 else "lowers"
        return f"{self.feature} = {self.value} {direction} the odds ({self.log_odds:+.2f})"


@dataclass(frozen=True)
class LeadExplanation:
    """Why the predictor gave one lead its probability."""

    probability: float
    base: float
    raw: float
    up: tuple[Contribution, ...]
    down: tuple[Contribution, ...]


def _value_text(frame: pl.DataFrame, name: str) -> npt.NDArray[np.str_]:
    column = frame.get_column(name)
    if column.dtype.is_float():
        column = column.round(2)
    return column.cast(pl.String).fill_null("missing").to_numpy().astype(np.str_)


def explain_rows(predictor: Predictor, frame: pl.DataFrame, top: int = 3) -> list[LeadExplanation]:
    """Top positive and negative contributions per row (for a handful of leads)."""
    contrib, base = predictor.blend.contributions(frame)
    raw = contrib.sum(axis=1) + base
    p = predictor.calibrate(frame, raw)
    names = predictor.blend.names
    values = {name: _value_text(frame, name) for name in names}
    out = []
    for row in range(frame.height):
        order = np.argsort(-contrib[row])
        parts = [
            Contribution(names[i], str(values[names[i]][row]), float(contrib[row, i]))
            for i in order
        ]
        out.append(
            LeadExplanation(
                probability=float(p[row]),
                base=float(base[row]),
                raw=float(raw[row]),
                up=tuple(x for x in parts[:top] if x.log_odds > 0),
                down=tuple(x for x in reversed(parts[-top:]) if x.log_odds < 0),
            )
        )
    return out


#: Rows explained per batch: bounds memory (contributions and words) on millions of leads.
REASON_CHUNK = 100_000


def reason_columns(
    predictor: Predictor,
    frame: pl.DataFrame,
    top: int = 3,
    rows: npt.NDArray[np.bool_] | None = None,
) -> pl.DataFrame:
    """``p_reasons_up`` / ``p_reasons_down`` text per row, e.g. ``lead_origin = Lead Add
    Form (+1.85); total_time_spent_on_website = 1532.0 (+0.92)``.

    Vectorised (Polars string expressions) and computed in chunks of ``REASON_CHUNK`` rows.
    ``rows`` (a mask) limits the work to some rows, e.g. the top of the queue; the others get
    no reasons (null).
    """
    wanted = np.arange(frame.height) if rows is None else np.flatnonzero(rows)
    chunks = [
        _reason_words(predictor, frame[wanted[start : start + REASON_CHUNK]], top)
        for start in range(0, len(wanted), REASON_CHUNK)
    ]
    schema = {P_REASONS_UP: pl.String, P_REASONS_DOWN: pl.String}
    words = pl.concat(chunks) if chunks else pl.DataFrame(schema=schema)
    if rows is None:
        return words
    placed = words.with_columns(pl.Series("__row", wanted, dtype=pl.Int64))
    every = pl.DataFrame({"__row": np.arange(frame.height, dtype=np.int64)})
    return every.join(placed, on="__row", how="left", maintain_order="left").drop("__row")


def _value_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if dtype.is_float():
        column = column.round(2)
    return column.cast(pl.String).fill_null("missing")


def _amount_text(amount: Floats) -> pl.Expr:
    """``%+.2f`` without a Python loop: sign, whole part and two zero-padded decimals."""
    cents = pl.Series(np.rint(np.abs(amount) * 100).astype(np.int64))
    sign = pl.Series(np.where(amount < 0, "-", "+"))
    return pl.format(
        "{}{}.{}",
        pl.lit(sign),
        pl.lit(cents // 100),
        pl.lit(cents % 100).cast(pl.String).str.zfill(2),
    )


def _reason_words(predictor: Predictor, chunk: pl.DataFrame, top: int) -> pl.DataFrame:
    contrib, _ = predictor.blend.contributions(chunk)
    names = predictor.blend.names
    values = chunk.select(
        pl.concat_list([_value_expr(n, chunk.schema[n]) for n in names]).alias("values")
    )
    name_series = pl.Series(names, dtype=pl.String)
    order = np.argsort(-contrib, axis=1, kind="stable")
    rows = np.arange(chunk.height)
    take = min(top, len(names))
    columns = []
    for label, picks, sign in (
        (P_REASONS_UP, order[:, :take], 1.0),
        (P_REASONS_DOWN, order[:, ::-1][:, :take], -1.0),
    ):
        pieces = []
        for k in range(take):
            index = picks[:, k]
            amount = contrib[rows, index]
            words = pl.format(
                "{} = {} ({})",
                pl.lit(name_series.gather(index)),
                pl.col("values").list.get(pl.lit(pl.Series(index, dtype=pl.Int64))),
                _amount_text(amount),
            )
            pieces.append(pl.when(pl.lit(pl.Series(amount * sign > 0))).then(words))
        columns.append(pl.concat_str(pieces, separator="; ", ignore_nulls=True).alias(label))
    return values.select(columns)


def global_importances(predictor: Predictor) -> pl.DataFrame:
    """Mean absolute log-odds contribution per feature on the training rows."""
    return pl.DataFrame(
        {
            "feature": [n for n, _ in predictor.importances],
            "mean_abs_log_odds": [v for _, v in predictor.importances],
        },
        schema={"feature": pl.String, "mean_abs_log_odds": pl.Float64},
    )
