"""Turn the Olist marketing funnel (MQLs + closed deals) into leadgate frames and files.

    python examples/olist/load.py --data ../shared/data/olist --out olist-out
    leadgate report --leads olist-out/leads.csv --stage-history olist-out/stage_history.csv \
        --outcomes olist-out/outcomes.csv --model examples/olist/model.yaml --out olist.html

Mapping (the data stays in ../shared/data; nothing is copied into the repository):

* leads: ``mql_id`` → ``lead_id``, ``first_contact_date`` → ``created_at`` and
  ``became_mql_at`` (every row of the file is an MQL), ``origin`` → ``source``,
  ``landing_page_id`` → ``campaign``; ``stage`` is ``won`` for closed deals, else ``mql``;
  ``fit_score``/``grade`` from ``examples/olist/model.yaml`` scored by leadgate.
* stage history: ``new → mql`` at first contact; ``mql → won`` at ``won_date``.
* outcomes: one won opportunity per closed deal, ``closed_at`` = ``won_date``, ``amount`` =
  ``declared_monthly_revenue`` when declared (a 0 means "not declared" and becomes empty),
  plus ``business_segment``, ``lead_type``, ``lead_behaviour_profile``, ``business_type``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
MODEL = Path(__file__).resolve().parent / "model.yaml"
UTC_US = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class OlistFrames:
    """The Olist funnel as leadgate frames."""

    leads: pl.DataFrame
    stage_history: pl.DataFrame
    outcomes: pl.DataFrame


def _when(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime(time_unit="us", time_zone="UTC", strict=True)


def read_raw(data_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The two Olist CSVs as published, every column as text."""
    missing = [name for name in (MQL_FILE, DEALS_FILE) if not (data_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{data_dir} lacks {', '.join(missing)}; point --data at the Olist folder "
            "(../shared/data/olist)."
        )
    mqls = pl.read_csv(data_dir / MQL_FILE, infer_schema=False)
    deals = pl.read_csv(data_dir / DEALS_FILE, infer_schema=False)
    return mqls, deals


def load_olist(data_dir: Path) -> OlistFrames:
    """Build leads, stage history and outcomes from the Olist CSVs in ``data_dir``."""
    mqls, deals = read_raw(data_dir)
    deals = deals.with_columns(
        _when("won_date").alias("won_at"),
        pl.col("declared_monthly_revenue").cast(pl.Float64),
    )
    leads = (
        mqls.join(deals.select("mql_id", "won_at"), on="mql_id", how="left")
        .select(
            pl.col("mql_id").alias("lead_id"),
            _when("first_contact_date").alias("created_at"),
            pl.col("origin").alias("source"),
            pl.col("landing_page_id").alias("campaign"),
            pl.when(pl.col("won_at").is_not_null())
            .then(pl.lit("won"))
            .otherwise(pl.lit("mql"))
            .alias("stage"),
            _when("first_contact_date").alias("became_mql_at"),
            pl.col("won_at").alias("became_won_at"),
        )
        .sort("lead_id")
    )
    history = pl.concat(
        [
            leads.select(
                "lead_id",
                pl.lit("new").alias("from_stage"),
                pl.lit("mql").alias("to_stage"),
                pl.lit("import").alias("action"),
                pl.col("created_at").alias("occurred_at"),
            ),
            deals.select(
                pl.col("mql_id").alias("lead_id"),
                pl.lit("mql").alias("from_stage"),
                pl.lit("won").alias("to_stage"),
                pl.lit("won").alias("action"),
                pl.col("won_at").alias("occurred_at"),
            ),
        ]
    ).sort("lead_id", "occurred_at")
    amount = pl.col("declared_monthly_revenue")
    outcomes = deals.select(
        pl.col("mql_id").alias("opportunity_id"),
        pl.col("mql_id").alias("lead_id"),
        pl.lit(None, UTC_US).alias("opportunity_created_at"),
        pl.when(amount > 0).then(amount).otherwise(None).alias("amount"),
        pl.lit(value=True).alias("won"),
        pl.col("won_at").alias("closed_at"),
        "business_segment",
        "lead_type",
        "lead_behaviour_profile",
        "business_type",
    ).sort("lead_id")
    return OlistFrames(leads=leads, stage_history=history, outcomes=outcomes)


def with_scores(leads: pl.DataFrame, model_path: Path = MODEL) -> pl.DataFrame:
    """Add ``fit_score``, ``grade`` and ``segment`` from the example model."""
    import leadgate

    model = leadgate.load_model(model_path)
    as_of = datetime(2019, 1, 1, tzinfo=UTC)
    scored = leadgate.score(leads, None, None, model, as_of=as_of, explain_points=False).leads
    return leads.join(
        scored.select("lead_id", "fit_score", "grade", "segment"), on="lead_id", how="left"
    )


def write(frames: OlistFrames, out: Path) -> list[Path]:
    """Write ``leads.csv``, ``stage_history.csv`` and ``outcomes.csv`` into ``out``."""
    from leadgate.io import write_frame

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        ("leads", frames.leads),
        ("stage_history", frames.stage_history),
        ("outcomes", frames.outcomes),
    ):
        path = out / f"{name}.csv"
        write_frame(frame, path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with the Olist CSVs")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--model", type=Path, default=MODEL, help="model to score leads with")
    args = parser.parse_args(argv)
    try:
        frames = load_olist(args.data)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    frames = OlistFrames(
        with_scores(frames.leads, args.model), frames.stage_history, frames.outcomes
    )
    for path in write(frames, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
