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


def reason_columns(predictor: Predictor, frame: pl.DataFrame, top: int = 3) -> pl.DataFrame:
    """``p_reasons_up`` / ``p_reasons_down`` text for every row, vectorised (batch scoring)."""
    contrib, _ = predictor.blend.contributions(frame)
    names = np.asarray(predictor.blend.names, dtype=np.str_)
    order = np.argsort(-contrib, axis=1)
    rows = np.arange(frame.height)
    texts = [_value_text(frame, name) for name in predictor.blend.names]
    columns: dict[str, pl.Expr] = {}
    for label, picks, sign in (
        (P_REASONS_UP, order[:, :top], 1.0),
        (P_REASONS_DOWN, order[:, ::-1][:, :top], -1.0),
    ):
        pieces = []
        for k in range(picks.shape[1]):
            index = picks[:, k]
            value = np.full(frame.height, "", dtype=object)
            for i, text in enumerate(texts):
                chosen = index == i
                value[chosen] = text[chosen]
            amount = contrib[rows, index]
            words = np.char.add(np.char.add(names[index], " = "), value.astype(np.str_))
            words = np.char.add(words, np.char.mod(" (%+.2f)", amount))
            pieces.append(
                pl.when(pl.Series(amount * sign > 0)).then(pl.Series(words)).otherwise(None)
            )
        columns[label] = pl.concat_str(pieces, separator="; ", ignore_nulls=True)
    return pl.select(*(expr.alias(name) for name, expr in columns.items()), eager=True)


def global_importances(predictor: Predictor) -> pl.DataFrame:
    """Mean absolute log-odds contribution per feature on the training rows."""
    return pl.DataFrame(
        {
            "feature": [n for n, _ in predictor.importances],
            "mean_abs_log_odds": [v for _, v in predictor.importances],
        },
        schema={"feature": pl.String, "mean_abs_log_odds": pl.Float64},
    )
