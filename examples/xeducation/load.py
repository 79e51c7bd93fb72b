"""Turn the X Education "Lead Scoring" CSV into leadgate's leads and outcomes files.

    python examples/xeducation/load.py --data ../shared/data/xeducation --out DIR

* column names become snake_case (``Lead Origin`` → ``lead_origin``);
* ``Select`` (the web form's default, "nothing selected") becomes a missing value;
* ``Lead Number`` becomes ``lead_id``; ``Prospect ID`` (a second identifier) is dropped;
* ``Converted`` becomes the outcomes file (one row per converted lead, ``won = true``);
* the data has no timestamps, so every lead gets the same ``created_at`` (2020-01-01 UTC).
  All decision moments tie, and the time-ordered validation falls back to file order
  (ascending ``Lead Number``).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from leadgate.io import write_frame

CREATED_AT = datetime(2020, 1, 1, tzinfo=UTC)
SOURCE_FILE = "Leads.csv"
NUMERIC = ("TotalVisits", "Total Time Spent on Website", "Page Views Per Visit",
           "Asymmetrique Activity Score", "Asymmetrique Profile Score")  # fmt: skip
#: Filled in by sales after contact (or state at export time): never features.
AFTER_CONTACT = (
    "tags", "lead_quality", "lead_profile", "last_activity", "last_notable_activity",
    "asymmetrique_activity_index", "asymmetrique_profile_index",
    "asymmetrique_activity_score", "asymmetrique_profile_score",
)  # fmt: skip


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass(frozen=True)
class XEducation:
    leads: pl.DataFrame
    outcomes: pl.DataFrame


def load_xeducation(folder: Path) -> XEducation:
    """Read ``Leads.csv`` from ``folder`` and return leadgate-shaped leads and outcomes."""
    path = folder / SOURCE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: pass --data pointing at the X Education folder")
    raw = pl.read_csv(path, infer_schema_length=0)
    raw = raw.with_columns(
        pl.when(pl.col(n) == "Select").then(None).otherwise(pl.col(n)).alias(n) for n in raw.columns
    ).with_columns(pl.col(n).cast(pl.Float64) for n in NUMERIC)
    leads = (
        raw.drop("Prospect ID", "Converted")
        .rename({n: snake(n) for n in raw.columns if n not in ("Prospect ID", "Converted")})
        .rename({"lead_number": "lead_id"})
        .with_columns(pl.col("lead_id").cast(pl.Int64), pl.lit(CREATED_AT).alias("created_at"))
        .sort("lead_id")
    )
    outcomes = (
        raw.filter(pl.col("Converted") == "1")
        .select(pl.col("Lead Number").cast(pl.Int64).alias("lead_id"))
        .with_columns(pl.lit(value=True).alias("won"), pl.lit(CREATED_AT).alias("closed_at"))
        .sort("lead_id")
    )
    return XEducation(leads, outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding Leads.csv")
    parser.add_argument("--out", type=Path, required=True, help="folder to write to")
    args = parser.parse_args()
    data = load_xeducation(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    write_frame(data.leads, args.out / "leads.csv")
    write_frame(data.outcomes, args.out / "outcomes.csv")
    print(f"wrote {data.leads.height:,} leads and {data.outcomes.height:,} outcomes to {args.out}")


if __name__ == "__main__":
    main()
