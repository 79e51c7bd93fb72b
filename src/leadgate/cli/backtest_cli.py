"""``leadgate backtest``: replay history through a new definition (and a baseline), compare."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadgate.cli.output import Output
from leadgate.exceptions import UsageError
from leadgate.services.durations import parse_duration

if TYPE_CHECKING:
    import polars as pl

    from leadgate.analytics.backtest import BacktestReport, DecisionRule, ModelSummary
    from leadgate.services.backtesting import BacktestFiles


def parse_interval(text: str, option: str) -> timedelta:
    """``7d``, ``1w``, ``12h`` or ``30m`` as a timedelta.

    Raises:
        UsageError: the text is not a duration.
    """
    return parse_duration(text, what=option, hint="use a number and a unit: 7d, 1w, 12h or 30m")


def parse_moment(text: str, option: str) -> datetime:
    """An ISO date or date-time; naive values are UTC.

    Raises:
        UsageError: the text is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date or time.",
            hint="use ISO 8601, e.g. 2026-01-01 or 2026-01-01T00:00:00Z",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def decision_rule(delay: str | None, cadence: str | None, start: datetime) -> DecisionRule:
    """The decision rule the options describe (default: creation + 7 days)."""
    from leadgate.analytics.backtest import DecisionRule

    if delay is not None and cadence is not None:
        raise UsageError(
            "--decision-delay and --cadence cannot be used together.",
            hint="judge each lead at its creation plus a delay, or at a fixed cadence",
        )
    if cadence is not None:
        every = parse_interval(cadence, "--cadence")
        if every <= timedelta(0):
            raise UsageError("--cadence must be longer than zero.", hint="e.g. --cadence 1w")
        return DecisionRule("cadence", every, anchor=start)
    return DecisionRule("delay", parse_interval(delay or "7d", "--decision-delay"))


def backtest(
    model: Annotated[Path, typer.Option("--model", "-m", help="The new model (YAML or JSON).")],
    start: Annotated[str, typer.Option("--from", help="First creation date backtested (UTC).")],
    end: Annotated[str, typer.Option("--to", help="End of the window, exclusive (UTC).")],
    baseline: Annotated[
        Path | None, typer.Option(help="The model to compare with (e.g. today's).")
    ] = None,
    leads: Annotated[Path | None, typer.Option(help="Leads file (needs created_at).")] = None,
    events: Annotated[Path | None, typer.Option(help="Events file.")] = None,
    outcomes: Annotated[
        Path | None, typer.Option(help="Opportunities: lead_id, won, amount, dates.")
    ] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    stage_history: Annotated[
        Path | None, typer.Option("--stage-history", help="Stage changes (accept/recycle/...).")
    ] = None,
    decision_delay: Annotated[
        str | None,
        typer.Option("--decision-delay", help="Judge each lead at creation + this (default 7d)."),
    ] = None,
    cadence: Annotated[
        str | None,
        typer.Option(help="Or judge at the first tick of this cadence from --from (e.g. 1w)."),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report JSON.")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Write report.json, decisions and disagreements here."),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option(help="Write the working-session CSV (+ a .ledger CSV beside it)."),
    ] = None,
    review_margin: Annotated[
        float, typer.Option(help="Points either side of a threshold that are borderline.")
    ] = 5.0,
    keep_discovery: Annotated[
        bool,
        typer.Option(
            "--keep-discovery", help="Use framework answers as they are now (look-ahead)."
        ),
    ] = False,
    database: Annotated[
        str | None, typer.Option("--database", help="Read the history from this store.")
    ] = None,
) -> None:
    """Replay history without look-ahead and compare what each model would have qualified.

    Files are CSV, Parquet or NDJSON; or read them all from the store with --database.
    """
    from leadgate.analytics.backtest import Window
    from leadgate.services import backtesting as bt

    window = Window(parse_moment(start, "--from"), parse_moment(end, "--to"))
    if window.end <= window.start:
        raise UsageError(
            f"--to ({end}) must be after --from ({start}).",
            hint="the window is [from, to): leads created from --from up to --to",
        )
    rule = decision_rule(decision_delay, cadence, window.start)
    _check_outputs(json_out, review)
    files = (leads, events, outcomes, accounts, stage_history)
    _check_sources(database, files)
    if review_margin < 0:
        raise UsageError("--review-margin must not be negative.", hint="e.g. --review-margin 5")
    request = bt.BacktestRequest(
        model=model, window=window, rule=rule, baseline=baseline, keep_discovery=keep_discovery
    )
    output = Output()
    with output.progress(total_steps=8) as step:
        if database is not None:
            from leadgate.services.database import open_database

            step("Reading the store")
            paths = (model,) if baseline is None else (model, baseline)
            with open_database(database) as engine:
                data = bt.read_backtest_store(engine, paths)
        else:
            data = bt.read_backtest_files(_files(*files), step)
        run = bt.run_backtest(data, request, step)
        written: list[Path] = []
        if json_out is not None:
            written.append(bt.write_report_json(run, json_out))
        if out_dir is not None:
            written += bt.write_run_files(run, out_dir)
        exported = None
        if review is not None:
            step("Writing the working-session review")
            exported = bt.write_review(run, review, margin=review_margin)
    _render(output, run.result.report)
    if run.discovery_fields:
        output.line(
            f"Discovery answers ({', '.join(run.discovery_fields)}) were left out: they are "
            "recorded after the decision. --keep-discovery uses them as they are now."
        )
    if run.judged_after_data:
        output.warn(
            f"{run.judged_after_data:,} leads are judged after the last event in the data; "
            "their decisions may lack events. End --to one decision delay before the data ends."
        )
    if exported is not None:
        output.success(
            f"review: {exported.rows:,} leads ({exported.borderline:,} borderline) in "
            f"{exported.leads}; their ledgers in {exported.ledger}"
        )
    if written:
        output.success("wrote " + ", ".join(map(str, written)))


def _check_outputs(*targets: Path | None) -> None:
    """Fail before the backtest runs, not after, when an output folder is missing."""
    for option, target in zip(("--json", "--review"), targets, strict=True):
        if target is not None and not target.parent.is_dir():
            raise UsageError(
                f"{option} {target}: the folder {target.parent} does not exist.",
                hint="create the folder first (checked before the backtest runs)",
            )


_FILE_OPTIONS = ("--leads", "--events", "--outcomes", "--accounts", "--stage-history")


def _check_sources(database: str | None, files: tuple[Path | None, ...]) -> None:
    given = [option for option, value in zip(_FILE_OPTIONS, files, strict=True) if value]
    if database is not None and given:
        raise UsageError(
            f"--database reads the whole history from the store; drop {', '.join(given)}.",
            hint="use either --database or the input files",
        )


def _files(
    leads: Path | None,
    events: Path | None,
    outcomes: Path | None,
    accounts: Path | None,
    history: Path | None,
) -> BacktestFiles:
    from leadgate.services.backtesting import BacktestFiles

    if leads is None or events is None or outcomes is None:
        given = (("--leads", leads), ("--events", events), ("--outcomes", outcomes))
        missing = [option for option, value in given if value is None]
        raise UsageError(
            f"missing {', '.join(missing)}.",
            hint="give --leads, --events and --outcomes files, or --database URL",
        )
    return BacktestFiles(leads, events, outcomes, accounts, history)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _summary_rows(s: ModelSummary) -> list[tuple[str, str]]:
    rows = [
        ("qualified (MQL+)", f"{s.qualified:,} of {s.leads:,} ({_pct(s.qualified_rate)})"),
        ("→ opportunity", f"{s.opportunities:,} ({_pct(s.opportunity_rate)})"),
        ("→ won", f"{s.won:,} ({_pct(s.win_rate)})"),
        ("lost", f"{s.lost:,}"),
        ("revenue captured", _money(s.revenue_captured)),
        ("pipeline captured", _money(s.pipeline_captured)),
        ("wins missed", f"{s.missed_wins:,} ({_money(s.missed_revenue)})"),
        ("precision / recall (wins)", f"{_pct(s.precision)} / {_pct(s.recall)}"),
    ]
    if s.accepted is not None:
        rows.append(("accepted by sales", f"{s.accepted:,} ({_pct(s.acceptance_rate)})"))
        rows.append(("rejected / recycled", f"{s.rejected:,} / {s.recycled:,}"))
    return rows


def _render(output: Output, report: BacktestReport) -> None:
    import polars as pl

    rule = report.decision_rule
    output.line(
        f"Backtest of {report.leads:,} leads created {report.window.start:%Y-%m-%d} – "
        f"{report.window.end:%Y-%m-%d}, each judged at {rule.label}, "
        f"qualified = {'/'.join(s.upper() for s in rule.qualified_stages)}"
    )
    columns: dict[str, list[str]] = {}
    for ref, summary in zip(report.models, report.summaries, strict=True):
        rows = _summary_rows(summary)
        columns.setdefault("metric", [name for name, _ in rows])
        columns[f"{ref.role}: {ref.version}"] = [value for _, value in rows]
    output.table(pl.DataFrame(columns), title="What each model's qualified set did")
    output.table(_months(report), title="Qualified volume by decision month")
    if report.change is None:
        return
    output.table(
        pl.DataFrame([cell.to_dict() for cell in report.cells]).select(
            "cell", "leads", "opportunities", "won", "lost", "revenue"
        ),
        title=f"Decisions compared ({report.disagreements:,} leads disagree)",
    )
    ch = report.change
    output.line(
        f"New vs baseline: MQL volume {_signed(ch.qualified)}, opportunities "
        f"{_signed(ch.opportunities)} (rate {_signed(ch.opportunity_rate)}), wins "
        f"{_signed(ch.won)} (rate {_signed(ch.win_rate)}), revenue captured "
        f"{_signed(ch.revenue_captured)}"
    )


def _months(report: BacktestReport) -> pl.DataFrame:
    import polars as pl

    frame = pl.DataFrame([m.to_dict() for m in report.months])
    if report.change is None:
        frame = frame.drop("baseline")
    return frame


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to the CLI."""
    app.command("backtest")(backtest)
