"""The demo: synthetic B2B data scored with the bundled example model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import polars as pl

from leadgate.engine import ScoreResult, score
from leadgate.io import write_frame
from leadgate.model import columns as c
from leadgate.model import load_model
from leadgate.model.compiled import QualificationModel
from leadgate.services.database import open_database, upgrade_database
from leadgate.services.importing import ImportSummary, import_file
from leadgate.services.lifecycle import RequalifySummary, requalify
from leadgate.storage import read_leads
from leadgate.synth import SyntheticDataset, generate_dataset

STAGE_ORDER = ["sql", "pql", "mql", "iql", "new", "disqualified"]


def example_model_path() -> Path:
    """The bundled example model (a B2B SaaS company)."""
    return Path(str(resources.files("leadgate.examples").joinpath("b2b_saas.yaml")))


@dataclass(frozen=True)
class DemoReport:
    model: QualificationModel
    dataset: SyntheticDataset
    result: ScoreResult
    stage_counts: pl.DataFrame
    outcomes_by_grade: pl.DataFrame
    top_leads: pl.DataFrame
    top_accounts: pl.DataFrame
    written: tuple[Path, ...]


def stage_counts(scores: pl.DataFrame) -> pl.DataFrame:
    """Leads per recommended stage, in funnel order, with their share."""
    order = pl.Enum(STAGE_ORDER)
    return (
        scores.group_by(c.STAGE)
        .len("leads")
        .with_columns((pl.col("leads") / pl.col("leads").sum() * 100).round(1).alias("share_%"))
        .sort(pl.col(c.STAGE).cast(order))
    )


def outcomes_by_grade(scores: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """Opportunity and win rates per fit grade: does the definition predict revenue?"""
    joined = scores.select(c.LEAD_ID, c.FIT_GRADE).join(
        outcomes.select(c.LEAD_ID, c.WON), on=c.LEAD_ID, how="left"
    )
    return (
        joined.group_by(c.FIT_GRADE)
        .agg(
            pl.len().alias("leads"),
            pl.col(c.WON).is_not_null().sum().alias("opportunities"),
            pl.col(c.WON).fill_null(False).sum().alias("won"),
        )
        .with_columns(
            (pl.col("opportunities") / pl.col("leads") * 100).round(2).alias("opportunity_%"),
            (pl.col("won") / pl.col("leads") * 100).round(2).alias("won_%"),
        )
        .sort(c.FIT_GRADE)
    )


def run_demo(
    *,
    model_path: Path | None = None,
    accounts: int = 2000,
    seed: int = 7,
    out_dir: Path | None = None,
    top: int = 10,
) -> DemoReport:
    """Generate a synthetic company's year of data, score it and summarise the result."""
    model = load_model(model_path or example_model_path())
    dataset = generate_dataset(accounts=accounts, seed=seed)
    result = score(dataset.leads, dataset.accounts, dataset.events, model, as_of=dataset.as_of)
    scores = result.leads
    ranked = scores.filter(~pl.col(c.IS_EXCLUDED)).sort(
        [c.FIT_SCORE, c.ENGAGEMENT_SCORE], descending=True
    )
    hot = ranked.filter(pl.col(c.STAGE).is_in(["sql", "pql", "mql"]))
    top_leads = (
        (hot if hot.height else ranked)
        .head(top)
        .select(
            c.LEAD_ID,
            c.GRADE,
            c.STAGE,
            c.PERSONA,
            c.FIT_SCORE,
            c.ENGAGEMENT_SCORE,
            c.PRODUCT_SCORE,
            c.TOP_REASONS,
        )
    )
    top_accounts = (
        result.accounts.join(
            dataset.accounts.select(c.ACCOUNT_ID, c.ACCOUNT_NAME), on=c.ACCOUNT_ID, how="left"
        )
        .sort([c.IS_MQA, c.ACCOUNT_SCORE], descending=True)
        .head(top)
        .select(
            c.ACCOUNT_ID,
            c.ACCOUNT_NAME,
            c.ACCOUNT_SCORE,
            c.ENGAGED_CONTACTS,
            c.ROLES_MISSING,
            c.IS_MQA,
        )
    )
    written: list[Path] = []
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in (
            ("accounts.parquet", dataset.accounts),
            ("leads.parquet", dataset.leads),
            ("events.parquet", dataset.events),
            ("outcomes.parquet", dataset.outcomes),
            ("scores.csv", scores),
            ("ledger.parquet", result.ledger),
            ("account_scores.csv", result.accounts),
        ):
            if frame is not None:
                write_frame(frame, out_dir / name)
                written.append(out_dir / name)
    return DemoReport(
        model=model,
        dataset=dataset,
        result=result,
        stage_counts=stage_counts(scores),
        outcomes_by_grade=outcomes_by_grade(scores, dataset.outcomes),
        top_leads=top_leads,
        top_accounts=top_accounts,
        written=tuple(written),
    )


@dataclass(frozen=True)
class StoreDemo:
    """The demo data loaded into a fresh SQLite store and qualified through the lifecycle."""

    database_url: str
    imports: tuple[ImportSummary, ...]
    requalified: RequalifySummary
    lifecycle: pl.DataFrame


def run_store_demo(
    out_dir: Path, *, model_path: Path | None, as_of: datetime, now: datetime
) -> StoreDemo:
    """Import the demo files written by :func:`run_demo` into ``out_dir/leadgate.db`` and
    requalify every lead: the same path a real team takes with its CRM exports."""
    database = out_dir / "leadgate.db"
    for stale in (
        database,
        database.with_name("leadgate.db-wal"),
        database.with_name("leadgate.db-shm"),
    ):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    upgrade_database(url)
    with open_database(url) as engine:
        imports = tuple(
            import_file(engine, kind, out_dir / f"{kind}.parquet", now=now)
            for kind in ("accounts", "leads", "events", "outcomes")
        )
        summary = requalify(engine, model_path or example_model_path(), as_of=as_of, now=now)
        with engine.connect() as conn:
            leads = read_leads(conn)
    lifecycle = (
        leads.group_by(c.STAGE)
        .len("leads")
        .with_columns((pl.col("leads") / pl.col("leads").sum() * 100).round(1).alias("share_%"))
        .sort("leads", descending=True)
    )
    return StoreDemo(url, imports, summary, lifecycle)
