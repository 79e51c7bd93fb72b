"""Expected deal size from won outcomes' amounts, by segment and fit grade, shrunk to the
overall median when a group has few wins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: Wins a group needs before its own median counts as much as the overall one.
SHRINK_WINS = 10.0
KEY_SEPARATOR = "|"


@dataclass(frozen=True)
class DealSizes:
    """Median won amount overall and per ``segment|fit_grade`` group (already shrunk)."""

    overall: float
    groups: dict[str, float] = field(default_factory=dict)
    wins: int = 0

    def expr(self, segment: str | None, grade: str | None) -> pl.Expr:
        """Expected deal size for each lead, from its segment and fit grade columns."""
        if not self.groups or segment is None or grade is None:
            return pl.lit(self.overall)
        key = pl.concat_str(
            [
                pl.col(segment).cast(pl.String).fill_null(""),
                pl.col(grade).cast(pl.String).fill_null(""),
            ],
            separator=KEY_SEPARATOR,
        )
        return key.replace_strict(self.groups, default=self.overall, return_dtype=pl.Float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "groups": dict(sorted(self.groups.items())),
            "wins": self.wins,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DealSizes:
        return cls(
            float(data["overall"]),
            {k: float(v) for k, v in data["groups"].items()},
            int(data["wins"]),
        )


def learn_deal_sizes(
    wins: pl.DataFrame, *, amount: str, segment: str | None, grade: str | None
) -> DealSizes | None:
    """Learn deal sizes from one row per won deal; ``None`` when no win has an amount."""
    known = wins.filter(pl.col(amount).is_not_null() & (pl.col(amount) > 0))
    if known.is_empty():
        return None
    overall = float(known.get_column(amount).median())  # type: ignore[arg-type]
    if segment is None or grade is None:
        return DealSizes(overall, {}, known.height)
    groups = (
        known.group_by(
            pl.concat_str(
                [
                    pl.col(segment).cast(pl.String).fill_null(""),
                    pl.col(grade).cast(pl.String).fill_null(""),
                ],
                separator=KEY_SEPARATOR,
            ).alias("key")
        )
        .agg(pl.col(amount).median().alias("median"), pl.len().alias("n"))
        .with_columns(
            (
                (pl.col("median") * pl.col("n") + overall * SHRINK_WINS)
                / (pl.col("n") + SHRINK_WINS)
            ).alias("shrunk")
        )
    )
    table = dict(zip(groups["key"].to_list(), map(float, groups["shrunk"].to_list()), strict=True))
    return DealSizes(overall, table, known.height)
