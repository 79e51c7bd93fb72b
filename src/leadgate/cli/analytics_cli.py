"""``leadgate report`` and ``leadgate analytics funnel|velocity|validate|thresholds|maturity``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadgate.cli.output import Output

if TYPE_CHECKING:
    from leadgate.analytics.frames import FunnelData

DbOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: LEADGATE_DATABASE_URL)."),
]
LeadsOpt = Annotated[Path | None, typer.Option("--leads", help="Leads file (instead of a DB).")]
HistoryOpt = Annotated[
    Path | None, typer.Option("--stage-history", help="Stage history file (with --leads).")
]
OutcomesOpt = Annotated[Path | None, typer.Option("--outcomes", help="Outcomes file.")]
FeedbackOpt = Annotated[Path | None, typer.Option("--feedback", help="Sales feedback file.")]
ModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="Model (for field completeness).")
]
ByOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--by", help="Break down by a column (segment, persona, source, campaign, owner, month)."
    ),
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the result as JSON.")]

analytics_app = typer.Typer(help="Single funnel metrics in the terminal or as JSON.")


def _data(
    database: str | None,
    leads: Path | None,
    stage_history: Path | None,
    outcomes: Path | None,
    feedback: Path | None,
    model: Path | None,
) -> FunnelData:
    from leadgate.services.analytics import AnalyticsSource, load_funnel_data

    if database is None and leads is None:
        from leadgate.settings import Settings

        database = Settings().database_url
    source = AnalyticsSource(database, leads, stage_history, outcomes, feedback, model)
    return load_funnel_data(source)


def _write_json(document: dict[str, Any], path: Path | None, output: Output) -> None:
    if path is None:
        return
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", "utf-8")
    output.success(f"wrote {path}")


@analytics_app.command("funnel")
def funnel_command(
    database: DbOpt = None,
    leads: LeadsOpt = None,
    stage_history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    by: ByOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Stage counts and conversion between every pair of stages."""
    from leadgate.analytics.funnel import FunnelQuery

    output = Output()
    result = FunnelQuery(by=tuple(by or ())).run(
        _data(database, leads, stage_history, outcomes, None, None)
    )
    output.table(result.stages, title="Leads that got at least this far")
    output.table(result.pairs, title="Conversion between stages")
    _write_json(result.to_dict(), json_out, output)


@analytics_app.command("velocity")
def velocity_command(
    database: DbOpt = None,
    leads: LeadsOpt = None,
    stage_history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    by: ByOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Median and p90 days in each stage, and the cycle length."""
    from leadgate.analytics.velocity import VelocityQuery

    output = Output()
    result = VelocityQuery(by=tuple(by or ())).run(
        _data(database, leads, stage_history, outcomes, None, None)
    )
    output.table(result.table, title="Velocity (days)")
    _write_json(result.to_dict(), json_out, output)


@analytics_app.command("validate")
def validate_command(
    score: Annotated[str, typer.Option(help="Score column to validate.")] = "fit_score",
    label: Annotated[str, typer.Option(help="Outcome: won, opportunity, sql or sal.")] = "won",
    database: DbOpt = None,
    leads: LeadsOpt = None,
    stage_history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    by: ByOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """ROC AUC, PR AUC, lift by decile and grade, calibration of a score."""
    from leadgate.analytics.validation import ValidationQuery

    output = Output()
    query = ValidationQuery(score=score, label=label, by=tuple(by or ()))  # type: ignore[arg-type]
    result = query.run(_data(database, leads, stage_history, outcomes, None, None))
    auc = "no data" if result.roc_auc is None else f"{result.roc_auc:.3f}"
    pr = "no data" if result.pr_auc is None else f"{result.pr_auc:.3f}"
    output.line(f"{score} against {label}: ROC AUC {auc}, PR AUC {pr}")
    output.table(result.summary, title="Summary")
    output.table(result.deciles, title="By decile (1 = highest scores)")
    if result.by_grade is not None:
        output.table(result.by_grade, title="By grade")
    if result.calibration is not None:
        output.table(result.calibration, title="Calibration")
    _write_json(result.to_dict(), json_out, output)


@analytics_app.command("thresholds")
def thresholds_command(
    score: Annotated[str, typer.Option(help="Score column.")] = "fit_score",
    capacity: Annotated[float | None, typer.Option(help="Leads a month sales can work.")] = None,
    threshold: Annotated[
        list[float] | None, typer.Option("--threshold", help="Candidate thresholds.")
    ] = None,
    database: DbOpt = None,
    leads: LeadsOpt = None,
    stage_history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """What each candidate MQL threshold would do to volume and wins, and which to use."""
    from leadgate.analytics.thresholds import ThresholdQuery

    output = Output()
    query = ThresholdQuery(score=score, capacity=capacity, thresholds=tuple(threshold or ()))
    result = query.run(_data(database, leads, stage_history, outcomes, None, None))
    output.table(result.table, title=f"Thresholds for {score} ({result.months:.1f} months)")
    output.line(f"Recommended threshold: {result.recommended} — {result.rule}")
    _write_json(result.to_dict(), json_out, output)


@analytics_app.command("maturity")
def maturity_command(
    score: Annotated[str, typer.Option(help="The qualification score column.")] = "fit_score",
    database: DbOpt = None,
    leads: LeadsOpt = None,
    stage_history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    model: ModelOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Rate the six qualification capabilities from ad hoc to modern."""
    from leadgate.analytics.maturity import MaturityQuery

    output = Output()
    result = MaturityQuery(score=score).run(
        _data(database, leads, stage_history, outcomes, None, model)
    )
    output.table(result.to_frame(), title="Maturity")
    _write_json(result.to_dict(), json_out, output)


def report_command(
    database: DbOpt = None,
    leads: LeadsOpt = None,
    stage_history: HistoryOpt = None,
    outcomes: OutcomesOpt = None,
    feedback: FeedbackOpt = None,
    model: ModelOpt = None,
    backtest: Annotated[
        Path | None, typer.Option("--backtest", help="Backtest report JSON to include.")
    ] = None,
    capacity: Annotated[
        float | None, typer.Option(help="Leads a month sales can work (threshold explorer).")
    ] = None,
    score: Annotated[str | None, typer.Option(help="Score column to validate.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML report file.")] = None,
    json_out: JsonOpt = None,
    title: Annotated[str, typer.Option(help="Report title.")] = "leadgate revenue report",
) -> None:
    """The revenue report: funnel, velocity, breakdowns, validation, thresholds, maturity."""
    from leadgate.services.reporting import ReportOptions, build_report, write_html, write_json

    output = Output()
    with output.progress(total_steps=3) as step:
        step("Reading data")
        data = _data(database, leads, stage_history, outcomes, feedback, model)
        step("Computing metrics")
        options = ReportOptions(score=score, capacity=capacity, backtest=backtest, title=title)
        report = build_report(data, options, now=datetime.now(UTC))
        step("Writing")
        written = []
        if out is not None:
            written.append(write_html(report, out))
        if json_out is not None:
            written.append(write_json(report, json_out))
    output.line(f"[bold]{report.title}[/bold] — {report.leads:,} leads")
    output.table(report.funnel.stages, title="Funnel (leads that got at least this far)")
    for section in report.tables():
        if section.table.width:
            output.table(section.table.head(20), title=section.metric.replace("_", " "))
        for note in section.notes:
            output.line(f"  {note}")
    if report.validation is not None:
        v = report.validation
        auc = "no data" if v.roc_auc is None else f"{v.roc_auc:.3f}"
        output.line(f"Validation of {v.score}: ROC AUC {auc}")
        output.table(v.deciles, title="Lift by decile")
    if report.thresholds is not None:
        t = report.thresholds
        output.table(t.table, title=f"Thresholds for {t.score}")
        output.line(f"Recommended threshold: {t.recommended} — {t.rule}")
    output.table(report.maturity.to_frame(), title="Maturity")
    for path in written:
        output.success(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add ``report`` and the ``analytics`` group to the CLI."""
    app.command("report")(report_command)
    app.add_typer(analytics_app, name="analytics")


__all__ = ["register"]
