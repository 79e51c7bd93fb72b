"""Backtesting a definition on history: score each lead as of its decision moment, compare.

Each lead created in the window is scored once per model by one engine call, with the
engine's per-lead ``as_of`` set to the lead's decision moment (creation + delay, or the next
cadence tick): only events at or before that moment count, and decay is measured from it.
The comparison itself is :func:`leadgate.analytics.backtest.compare_decisions`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl

from leadgate.analytics.backtest import (
    ACCEPTED,
    DECIDED_AT,
    LOST,
    OPPORTUNITY,
    RECYCLED,
    REJECTED,
    REVENUE,
    SALES_REASON,
    WON,
    BacktestResult,
    DecisionRule,
    ModelDecisions,
    ModelRef,
    Role,
    Window,
    compare_decisions,
    decision_moment_expr,
    qualified_column,
    stage_column,
)
from leadgate.analytics.review import (
    DEFAULT_MARGIN,
    NEAR_THRESHOLD,
    REVIEW_REASON,
    borderline,
    review_leads,
)
from leadgate.engine import score
from leadgate.engine.ledger import rule_catalogue
from leadgate.exceptions import InputDataError, Location, Problem, UsageError
from leadgate.io import (
    ACCOUNTS,
    COMPANY,
    EVENTS,
    LEADS,
    OUTCOMES,
    STAGE_HISTORY,
    FrameContract,
    align_id_types,
)
from leadgate.io import read_frame as _read_frame
from leadgate.model import columns as c
from leadgate.model import load_model
from leadgate.model.compiled import QualificationModel
from leadgate.storage import (
    read_accounts,
    read_events,
    read_leads,
    read_outcomes,
    read_stage_history,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Step = Callable[[str], None]


#: What the per-model score frames keep (the rest of the engine output is not needed).
DECISION_COLUMNS: Final = (
    c.LEAD_ID,
    c.SEGMENT,
    c.IS_EXCLUDED,
    c.FIT_SCORE,
    c.ENGAGEMENT_SCORE,
    c.PRODUCT_SCORE,
    c.GRADE,
    c.STAGE,
)


#: Above this share of all leads in the window, events are passed on without a filtered copy.
KEEP_ALL_EVENTS: Final = 0.8


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class BacktestFiles:
    """Input files of a backtest (CSV, Parquet or NDJSON)."""

    leads: Path
    events: Path
    outcomes: Path
    accounts: Path | None = None
    stage_history: Path | None = None


@dataclass(frozen=True)
class BacktestData:
    """The history to replay: leads (with ``created_at``), events, outcomes, stage history."""

    leads: pl.DataFrame
    events: pl.DataFrame | None
    outcomes: pl.DataFrame | None
    accounts: pl.DataFrame | None = None
    stage_history: pl.DataFrame | None = None


@dataclass(frozen=True)
class BacktestRequest:
    """Which models to compare, on which leads, judged when.

    Attributes:
        model: The new model (YAML or compiled JSON).
        window: Leads created in ``[start, end)`` are backtested.
        rule: When each lead is judged.
        baseline: The model it is compared with, if any.
        keep_discovery: Keep the framework answers (BANT, MEDDIC, ...) the leads carry now.
            They are recorded in discovery calls, usually after the decision, and a file
            says nothing about when; so by default they are blanked (no look-ahead).
    """

    model: Path
    window: Window
    rule: DecisionRule
    baseline: Path | None = None
    keep_discovery: bool = False


@dataclass(frozen=True)
class BacktestRun:
    """A finished backtest: the models, the comparison, and each model's scores per lead."""

    models: dict[Role, QualificationModel]
    result: BacktestResult
    scores: dict[Role, pl.DataFrame] = field(repr=False)
    leads: pl.DataFrame = field(repr=False)  # the backtested leads as scored (with decided_at)
    events: pl.DataFrame | None = field(default=None, repr=False)  # their events, as scored
    accounts: pl.DataFrame | None = field(default=None, repr=False)
    discovery_fields: tuple[str, ...] = ()
    #: Leads judged after the last event in the data: their history may be cut short.
    judged_after_data: int = 0


def read_backtest_files(files: BacktestFiles, step: Step = _quiet) -> BacktestData:
    """Read and check the input files.

    Raises:
        InputDataError: a file is missing, unreadable or has bad rows.
    """
    step("Reading leads")
    leads = _read(files.leads, LEADS)
    step("Reading events")
    events = _read(files.events, EVENTS)
    step("Reading outcomes")
    outcomes = _read(files.outcomes, OUTCOMES)
    accounts = None if files.accounts is None else _read(files.accounts, ACCOUNTS)
    history = None if files.stage_history is None else _read(files.stage_history, STAGE_HISTORY)
    return BacktestData(leads, events, outcomes, accounts, history)


def _read(path: Path, contract: FrameContract) -> pl.DataFrame:
    return _read_frame(path, contract).frame


def read_backtest_store(engine: Engine, models: tuple[Path, ...]) -> BacktestData:
    """Read the history from the store: leads, accounts, events, outcomes and stage history.

    Fields the models read but no stored lead, account or event carries are added empty.
    """
    compiled = [load_model(path) for path in models]
    lead_fields = tuple(f for m in compiled for f in m.lead_fields)
    event_fields = tuple(f for m in compiled for f in m.event_fields)
    account_fields = tuple(f for m in compiled for f in m.account_fields)
    with engine.connect() as conn:
        leads = _with_fields(read_leads(conn), lead_fields)
        accounts = _with_fields(read_accounts(conn), account_fields)
        events = _with_fields(read_events(conn), event_fields)
        outcomes = read_outcomes(conn)
        history = read_stage_history(conn)
    return BacktestData(leads, events, outcomes, accounts, history)


def _with_fields(frame: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    absent = [
        name
        for name in dict.fromkeys(fields)
        if name not in frame.columns and not name.startswith(c.ACCOUNT_PREFIX)
    ]
    return frame.with_columns(pl.lit(None).alias(name) for name in absent)


def discovery_fields(*models: QualificationModel) -> tuple[str, ...]:
    """The lead fields the models' frameworks read (answers recorded in discovery)."""
    names = [crit.field for m in models for fw in m.frameworks for crit in fw.criteria]
    return tuple(dict.fromkeys(name for name in names if not name.startswith(c.ACCOUNT_PREFIX)))


def _window_leads(leads: pl.DataFrame, request: BacktestRequest) -> pl.DataFrame:
    if c.CREATED_AT not in leads.columns:
        raise InputDataError(
            [
                Problem(
                    "missing_created_at",
                    "a backtest needs each lead's creation time",
                    Location(file="leads", field=c.CREATED_AT),
                    hint="add a created_at column (UTC date/time) to the leads",
                )
            ],
            summary="The leads have no created_at column.",
        )
    dtype = leads.schema[c.CREATED_AT]
    if not isinstance(dtype, pl.Datetime):
        raise InputDataError(
            [
                Problem(
                    "bad_created_at",
                    f"created_at must be a date/time column (got {dtype})",
                    Location(file="leads", field=c.CREATED_AT),
                    hint="read the leads with leadgate.io.read_frame, or parse the column",
                )
            ],
            summary="The leads' created_at is not a date/time.",
        )
    if dtype.time_zone is None:  # naive times are UTC, as everywhere in leadgate
        leads = leads.with_columns(pl.col(c.CREATED_AT).dt.replace_time_zone("UTC"))
    created = pl.col(c.CREATED_AT)
    start, end = request.window.start, request.window.end
    picked = leads.filter(created.is_not_null() & (created >= start) & (created < end))
    if picked.height == 0:
        raise UsageError(
            f"No lead was created between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC.",
            hint="check --from/--to against the leads' created_at",
        )
    return picked.with_columns(decision_moment_expr(request.rule))


def _align(data: BacktestData) -> BacktestData:
    leads, events, outcomes, history = data.leads, data.events, data.outcomes, data.stage_history
    if events is not None:
        leads, events = align_id_types((leads, c.LEAD_ID), (events, c.LEAD_ID))
    if outcomes is not None:
        leads, outcomes = align_id_types((leads, c.LEAD_ID), (outcomes, c.LEAD_ID))
    if history is not None:
        leads, history = align_id_types((leads, c.LEAD_ID), (history, c.LEAD_ID))
    accounts = data.accounts
    if accounts is not None and c.ACCOUNT_ID in leads.columns:
        leads, accounts = align_id_types((leads, c.ACCOUNT_ID), (accounts, c.ACCOUNT_ID))
    return BacktestData(leads, events, outcomes, accounts, history)


def _blank(leads: pl.DataFrame, names: tuple[str, ...]) -> pl.DataFrame:
    present = [name for name in names if name in leads.columns]
    return leads.with_columns(pl.lit(None, leads.schema[name]).alias(name) for name in present)


def _events_for(
    events: pl.DataFrame | None, leads: pl.DataFrame, all_leads: int
) -> pl.DataFrame | None:
    """The backtested leads' events; copied only when that drops a good share of them.

    The engine sees each lead's events up to its own moment whatever it is given; cutting
    the frame down only saves work when the window holds a minority of the leads.
    """
    if events is None or leads.height >= KEEP_ALL_EVENTS * all_leads:
        return events
    last = leads.get_column(DECIDED_AT).max()
    kept = events.lazy().join(leads.lazy().select(c.LEAD_ID), on=c.LEAD_ID, how="semi")
    if last is not None and c.OCCURRED_AT in events.columns:  # else the engine reports it
        kept = kept.filter(pl.col(c.OCCURRED_AT) <= last)
    return kept.collect()


def run_backtest(data: BacktestData, request: BacktestRequest, step: Step = _quiet) -> BacktestRun:
    """Replay the window's leads through each model as of their decision moments, compare.

    Raises:
        ModelError: a model is invalid.
        InputDataError: the leads lack ``created_at`` or a frame breaks its contract.
        UsageError: no lead was created in the window.
    """
    step("Loading the models")
    models: dict[Role, QualificationModel] = {"new": load_model(request.model)}
    if request.baseline is not None:
        models["baseline"] = load_model(request.baseline)
    data = _align(data)
    leads = _window_leads(data.leads, request)
    blanked = () if request.keep_discovery else discovery_fields(*models.values())
    leads = _blank(leads, blanked)
    events = _events_for(data.events, leads, data.leads.height)
    scores: dict[Role, pl.DataFrame] = {}
    decisions: dict[Role, ModelDecisions] = {}
    for role, model in models.items():
        step(f"Scoring {leads.height:,} leads with the {role} model as of their decisions")
        result = score(leads, data.accounts, events, model, as_of=DECIDED_AT, explain_points=False)
        frame = result.leads.select(DECISION_COLUMNS)
        scores[role] = frame
        decisions[role] = ModelDecisions(ModelRef(role, model.name, model.version), frame)
    step("Comparing with what happened")
    compared = compare_decisions(
        decisions["new"],
        decisions.get("baseline"),
        leads.select(c.LEAD_ID, DECIDED_AT),
        data.outcomes,
        data.stage_history,
        window=request.window,
        rule=request.rule,
    )
    return BacktestRun(
        models=models,
        result=compared,
        scores=scores,
        leads=leads,
        events=events,
        accounts=data.accounts,
        discovery_fields=blanked,
        judged_after_data=_after_data(leads, data.events),
    )


def _after_data(leads: pl.DataFrame, events: pl.DataFrame | None) -> int:
    if events is None or events.height == 0 or c.OCCURRED_AT not in events.columns:
        return 0
    last = events.get_column(c.OCCURRED_AT).max()
    return int(leads.select((pl.col(DECIDED_AT) > last).sum()).item())


def write_report_json(run: BacktestRun, path: Path) -> Path:
    """Write the report as JSON (the shape of ``BacktestReport.to_dict``)."""
    _check_folder(path)
    path.write_text(json.dumps(run.result.report.to_dict(), indent=2) + "\n", "utf-8")
    return path


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise UsageError(
            f"Cannot write {path}: the folder {path.parent} does not exist.",
            hint="Create the folder first.",
        )


def write_run_files(run: BacktestRun, folder: Path) -> list[Path]:
    """Write ``report.json``, ``decisions.parquet`` and ``disagreements.csv`` into a folder."""
    from leadgate.io import write_frame

    folder.mkdir(parents=True, exist_ok=True)
    written = [write_report_json(run, folder / "report.json")]
    decisions = folder / "decisions.parquet"
    write_frame(run.result.leads, decisions)
    written.append(decisions)
    if "baseline" in run.models:
        disagreements = folder / "disagreements.csv"
        write_frame(run.result.disagreements(), disagreements)
        written.append(disagreements)
    return written


@dataclass(frozen=True)
class ReviewExport:
    """The working-session files: one row per lead to review, and their ledger rows."""

    leads: Path
    ledger: Path
    rows: int
    borderline: int


#: Columns of the review file, in order (those a run lacks are left out). Only what a rep
#: needs to recognise and judge a lead: id, company and title, no names, e-mails or phones.
REVIEW_COLUMNS: Final = (
    c.LEAD_ID,
    COMPANY,
    c.TITLE,
    c.SEGMENT,
    REVIEW_REASON,
    NEAR_THRESHOLD,
    DECIDED_AT,
    stage_column("new"),
    qualified_column("new"),
    stage_column("baseline"),
    qualified_column("baseline"),
    c.FIT_SCORE,
    c.ENGAGEMENT_SCORE,
    c.PRODUCT_SCORE,
    c.GRADE,
    OPPORTUNITY,
    WON,
    LOST,
    REVENUE,
    ACCEPTED,
    REJECTED,
    RECYCLED,
    SALES_REASON,
    c.TOP_REASONS,
)
LEDGER_COLUMNS: Final = (
    c.LEAD_ID,
    c.RULE_KIND,
    c.RULE_ID,
    c.DESCRIPTION,
    c.EVENT_COUNT,
    c.POINTS,
)


def review_frames(
    run: BacktestRun, margin: float = DEFAULT_MARGIN
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """The leads to review (with the new model's top reasons) and their ledger rows.

    The picked leads are scored once more with the new model, as of the same decision
    moments, with the ledger on (the backtest itself skips it to stay fast).

    Returns:
        The review rows, the ledger rows, and how many leads are borderline.
    """
    model = run.models["new"]
    near = borderline(run.scores["new"], model, margin)
    picked = review_leads(run.result.leads, near)
    ids = picked.select(c.LEAD_ID)
    leads = run.leads.join(ids, on=c.LEAD_ID, how="semi")
    events = None if run.events is None else run.events.join(ids, on=c.LEAD_ID, how="semi")
    explained = score(leads, run.accounts, events, model, as_of=DECIDED_AT)
    scores = run.scores["new"].select(
        c.LEAD_ID, c.SEGMENT, c.FIT_SCORE, c.ENGAGEMENT_SCORE, c.PRODUCT_SCORE, c.GRADE
    )
    rows = (
        picked.join(scores, on=c.LEAD_ID, how="left")
        .join(explained.leads.select(c.LEAD_ID, c.TOP_REASONS), on=c.LEAD_ID, how="left")
        .join(_who(leads, run.accounts), on=c.LEAD_ID, how="left")
    )
    rows = rows.select(name for name in REVIEW_COLUMNS if name in rows.columns)
    ledger = explained.ledger if explained.ledger is not None else pl.DataFrame()
    ledger_rows = (
        ledger.filter(pl.col(c.POINTS) != 0)
        .join(rule_catalogue(model).drop(c.RULE_KIND), on=c.RULE_ID, how="left")
        .with_columns(pl.col(c.RULE_ID).cast(pl.String), pl.col(c.RULE_KIND).cast(pl.String))
        .sort([pl.col(c.LEAD_ID), pl.col(c.POINTS).abs()], descending=[False, True])
        .select(LEDGER_COLUMNS)
    )
    return rows, ledger_rows, near.height


def _who(leads: pl.DataFrame, accounts: pl.DataFrame | None) -> pl.DataFrame:
    """``lead_id``, ``company`` and ``title``: the lead's company, else its account's name."""
    company = pl.col(COMPANY) if COMPANY in leads.columns else pl.lit(None, pl.String)
    title = pl.col(c.TITLE) if c.TITLE in leads.columns else pl.lit(None, pl.String)
    frame = leads.select(c.LEAD_ID, c.ACCOUNT_ID, company.alias(COMPANY), title.alias(c.TITLE))
    if accounts is not None and c.ACCOUNT_NAME in accounts.columns:
        names = accounts.select(c.ACCOUNT_ID, pl.col(c.ACCOUNT_NAME).alias("_account_name"))
        frame = frame.join(
            names.unique(c.ACCOUNT_ID, keep="first"), on=c.ACCOUNT_ID, how="left"
        ).with_columns(pl.coalesce(COMPANY, "_account_name").alias(COMPANY))
    return frame.select(c.LEAD_ID, COMPANY, c.TITLE)


def write_review(run: BacktestRun, out: Path, margin: float = DEFAULT_MARGIN) -> ReviewExport:
    """Write the working-session CSV and, beside it, ``<name>.ledger.csv`` (formula-safe)."""
    from leadgate.io import write_frame

    rows, ledger, near = review_frames(run, margin)
    ledger_path = out.with_name(out.name.split(".")[0] + ".ledger" + _suffix(out))
    write_frame(rows, out)
    write_frame(ledger, ledger_path)
    return ReviewExport(leads=out, ledger=ledger_path, rows=rows.height, borderline=near)


def _suffix(path: Path) -> str:
    name = path.name
    return name[name.index(".") :] if "." in name else ".csv"


__all__ = [
    "LEDGER_COLUMNS",
    "REVIEW_COLUMNS",
    "STAGE_HISTORY",
    "BacktestData",
    "BacktestFiles",
    "BacktestRequest",
    "BacktestRun",
    "ReviewExport",
    "discovery_fields",
    "read_backtest_files",
    "read_backtest_store",
    "review_frames",
    "run_backtest",
    "write_report_json",
    "write_review",
    "write_run_files",
]
