"""``leadgate``: validate and compile models, score files, explain leads, run the demo."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import click
import typer

from leadgate.cli import analytics_cli, backtest_cli, learn_cli, routing_cli, serve_cli, service_cli
from leadgate.cli.exit_codes import ExitCode
from leadgate.cli.output import Output
from leadgate.exceptions import (
    ArtifactError,
    DatabaseNotMigratedError,
    InputDataError,
    LeadgateError,
    ModelError,
    NotFoundError,
    StorageError,
    TransitionError,
    UsageError,
)

app = typer.Typer(
    name="leadgate",
    help="A qualification model as code: score, explain and measure every lead.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelArg = Annotated[Path, typer.Argument(help="Model file (YAML) or compiled artifact (JSON).")]
ModelOpt = Annotated[Path, typer.Option("--model", "-m", help="Model YAML or compiled JSON.")]


def _parse_as_of(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)  # the entry point may read the clock; the engine never does
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--as-of {text!r} is not a date or time.",
            hint="use ISO 8601, e.g. 2026-03-01 or 2026-03-01T12:00:00Z",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@app.command()
def validate(model: ModelArg) -> None:
    """Check a model file and report every problem with its line and column."""
    from leadgate.model import load_model

    compiled = load_model(model)
    Output().success(
        f"{model} is valid: {len(compiled.fit_rules)} fit rules, "
        f"{len(compiled.engagement.rules)} engagement rules, "
        f"{len(compiled.product.rules)} product rules, {len(compiled.frameworks)} frameworks "
        f"(version {compiled.version})"
    )


@app.command("compile")
def compile_model(
    model: ModelArg,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Artifact path (JSON).")] = None,
) -> None:
    """Compile a model into a frozen, versioned JSON artifact."""
    from leadgate.model import load_spec, write_artifact

    spec = load_spec(model)
    target = out or model.with_suffix(".json")
    version = write_artifact(spec, target)
    Output().success(f"compiled {model} → {target} (version {version})")


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of the model format (for editor completion and checks)."""
    from leadgate.model.schema import json_schema_text

    text = json_schema_text()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, "utf-8")
        Output().success(f"wrote {out}")


@app.command("score")
def score_command(
    model: ModelOpt,
    leads: Annotated[Path, typer.Option(help="Leads file (CSV, Parquet or NDJSON).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Scores file to write.")],
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    events: Annotated[Path | None, typer.Option(help="Events file.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Score as of this time (default: now).")
    ] = None,
    ledger: Annotated[Path | None, typer.Option(help="Also write the ledger here.")] = None,
    accounts_out: Annotated[
        Path | None, typer.Option("--accounts-out", help="Also write account roll-ups here.")
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Score the valid rows; report the others.")
    ] = False,
    predictor: Annotated[
        Path | None,
        typer.Option(help="Predictor JSON: adds p_convert, expected value and its reasons."),
    ] = None,
) -> None:
    """Score leads from files and write scores, stages, grades and reasons."""
    from leadgate.services.scoring import (
        ScoreRequest,
        score_files,
        write_outputs,
        write_problems_report,
    )

    output = Output()
    request = ScoreRequest(
        model=model,
        leads=leads,
        accounts=accounts,
        events=events,
        as_of=_parse_as_of(as_of),
        skip_invalid=skip_invalid,
        predictor=predictor,
    )
    with output.progress(total_steps=8) as step:
        run = score_files(request, step)
        step("Writing results")
        written = write_outputs(run.result, out, ledger_out=ledger, accounts_out=accounts_out)
    if run.problems:
        report = write_problems_report(run.problems, out)
        rejected = sum(run.rows_rejected.values())
        output.warn(f"{rejected:,} input rows skipped; {len(run.problems):,} problems in {report}")
        output.problems(list(run.problems), limit=5)
    from leadgate.services.demo import stage_counts

    output.table(
        stage_counts(run.result.leads), title=f"Stages as of {run.result.as_of:%Y-%m-%d %H:%M} UTC"
    )
    output.success(
        f"scored {run.result.leads.height:,} leads with {run.model.version}; wrote "
        + ", ".join(map(str, written))
    )


@app.command()
def explain(
    lead_ids: Annotated[list[str], typer.Argument(help="Lead ids to explain.")],
    model: ModelOpt,
    leads: Annotated[Path, typer.Option(help="Leads file.")],
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    events: Annotated[Path | None, typer.Option(help="Events file.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of this time.")] = None,
    predictor: Annotated[
        Path | None, typer.Option(help="Predictor JSON: also explain its probability.")
    ] = None,
) -> None:
    """Explain leads' scores point by point: every rule, event count, decay and cap."""
    from leadgate.services.explaining import explain_leads

    output = Output()
    explanations = explain_leads(
        model=model,
        leads=leads,
        accounts=accounts,
        events=events,
        as_of=_parse_as_of(as_of),
        lead_ids=tuple(lead_ids),
        predictor=predictor,
    )
    for item in explanations:
        output.heading(item.headline)
        for line in item.lines:
            output.line(f"  {line}")
    if predictor is not None:
        from leadgate.cli.learn_cli import print_predictor_explanations

        print_predictor_explanations(
            output, predictor, model, leads, accounts, events, _parse_as_of(as_of), lead_ids
        )


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(help="Synthetic accounts to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write data and results to this folder.")
    ] = Path("demo-output"),
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="Model to use (default: bundled).")
    ] = None,
) -> None:
    """Generate a realistic B2B company's year of data, score it and show the result."""
    from leadgate.services.demo import run_demo

    output = Output()
    with output.progress(total_steps=1) as step:
        step("Generating data and scoring")
        report = run_demo(model_path=model, accounts=accounts, seed=seed, out_dir=out)
    data = report.dataset
    output.line(
        f"Model [bold]{report.model.version}[/bold] — {data.accounts.height:,} accounts, "
        f"{data.leads.height:,} leads, {data.events.height:,} events, "
        f"{data.outcomes.height:,} opportunities; as of {data.as_of:%Y-%m-%d}"
    )
    output.table(report.stage_counts, title="Recommended stage")
    output.table(report.outcomes_by_grade, title="Opportunities and wins by fit grade")
    output.table(report.top_leads, title="Top qualified leads and why")
    output.table(report.top_accounts, title="Top accounts")
    if report.written:
        output.success(f"wrote {len(report.written)} files to {out}")
    if out is not None:
        from leadgate.services.demo import run_store_demo

        with output.progress(total_steps=1) as step:
            step("Importing into SQLite and qualifying through the lifecycle")
            store = run_store_demo(out, model_path=model, as_of=data.as_of, now=datetime.now(UTC))
        for done in store.imports:
            output.line(
                f"imported {done.kind}: {done.inserted:,} inserted, {done.rejected:,} rejected "
                f"({done.seconds:.1f} s)"
            )
        output.table(store.lifecycle, title=f"Lifecycle stages in {store.database_url}")
        output.line(
            f"Try: leadgate lead accept <lead_id> --database {store.database_url}  ·  "
            f"leadgate export --out crm.csv --format hubspot-contacts --database "
            f"{store.database_url}"
        )


db_app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)
lead_app = typer.Typer(help="Sales actions on one lead.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(lead_app, name="lead")
backtest_cli.register(app)
analytics_cli.register(app)
routing_cli.register(app)
service_cli.register(app)
learn_cli.register(app)
serve_cli.register(app)


def _database_url() -> str:
    from leadgate.settings import Settings

    return Settings().database_url


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database", help="Database URL (default: LEADGATE_DATABASE_URL or leadgate.db)."
    ),
]


@db_app.command("upgrade")
def db_upgrade(database: DbOpt = None) -> None:
    """Create the schema or migrate it to the newest revision (safe to repeat)."""
    from leadgate.services.database import upgrade_database

    status = upgrade_database(database or _database_url())
    Output().success(f"{status.url} is at revision {status.current}")


@db_app.command("current")
def db_current(database: DbOpt = None) -> None:
    """Show the database's schema revision and whether it is up to date."""
    from leadgate.services.database import database_status

    status = database_status(database or _database_url())
    output = Output()
    if status.up_to_date:
        output.success(f"{status.url} is at revision {status.current} (up to date)")
        return
    at = status.current or "no revision (empty database)"
    output.warn(f"{status.url} is at {at}; this leadgate expects {status.head}")
    raise typer.Exit(int(ExitCode.NOT_MIGRATED))


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help="leads, accounts, events or outcomes")],
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or NDJSON file.")],
    mapping: Annotated[
        str | None,
        typer.Option(help="Built-in CRM mapping (e.g. hubspot-contacts) or a mapping file."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per committed batch.")] = 50_000,
    database: DbOpt = None,
) -> None:
    """Import a file into the database: upserts, idempotent events, a report of bad rows."""
    from leadgate.services.database import open_database
    from leadgate.services.importing import import_file

    output = Output()
    with (
        open_database(database or _database_url()) as engine,
        output.counter(f"importing {kind}") as advance,
    ):
        summary = import_file(
            engine,
            kind,
            file,
            mapping=mapping,
            batch_size=batch_size,
            now=datetime.now(UTC),
            progress=advance,
        )
    output.success(
        f"{summary.file}: {summary.rows_read:,} rows read — {summary.inserted:,} inserted, "
        f"{summary.updated:,} updated, {summary.unchanged:,} unchanged, "
        f"{summary.rejected:,} rejected ({summary.seconds:.1f} s)"
    )
    if summary.merged_duplicates:
        output.line(f"  {summary.merged_duplicates:,} duplicate people merged by e-mail")
    if summary.accounts_created:
        output.line(
            f"  {summary.accounts_created:,} accounts created (from company domains or ids)"
        )
    if summary.report is not None:
        output.warn(f"rejected rows are listed in {summary.report}")


@app.command()
def requalify(
    model: ModelOpt,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO date/time (default now).")
    ] = None,
    recheck_days: Annotated[
        int, typer.Option(help="Days before a decayed, recycled lead is re-checked.")
    ] = 30,
    database: DbOpt = None,
) -> None:
    """Rescore every stored lead and apply the automatic lifecycle moves."""
    from leadgate.services.database import open_database
    from leadgate.services.lifecycle import requalify as run_requalify

    moment = _parse_as_of(as_of)
    with open_database(database or _database_url()) as engine:
        summary = run_requalify(
            engine, model, as_of=moment, now=datetime.now(UTC), recheck_days=recheck_days
        )
    output = Output()
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items())
    output.success(
        f"{summary.leads:,} leads rescored as of {moment:%Y-%m-%d %H:%M} with "
        f"{summary.model_version}: {summary.rescored:,} changed scores, "
        f"{summary.moves['leads'].sum():,} stage moves ({seconds})"
    )
    if summary.moves.height:
        output.table(summary.moves, title="Stage moves")


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV, Parquet or NDJSON file.")],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="leadgate, hubspot-contacts, salesforce-leads or salesforce-contacts.",
        ),
    ] = "leadgate",
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="Rescore first (adds reasons).")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Rescore as of (ISO).")] = None,
    database: DbOpt = None,
) -> None:
    """Export stored leads' stage, scores, grade, owner and reasons for a CRM."""
    from leadgate.services.database import open_database
    from leadgate.services.exporting import export_leads

    with open_database(database or _database_url()) as engine:
        summary = export_leads(
            engine,
            out,
            format=format,
            model=model,
            as_of=None if model is None else _parse_as_of(as_of),
        )
    Output().success(f"wrote {summary.rows:,} leads to {summary.path} ({summary.format})")


def _lead_action(
    action: str,
    lead_id: str,
    actor: str | None,
    reason: str | None,
    recheck: str | None,
    database: str | None,
) -> None:
    from leadgate.services.database import open_database
    from leadgate.services.lifecycle import perform_action

    with open_database(database or _database_url()) as engine:
        result = perform_action(
            engine,
            lead_id,
            action,
            at=datetime.now(UTC),
            actor=actor,
            reason=reason,
            recheck_at=None if recheck is None else _parse_as_of(recheck),
        )
    move = result.move
    text = f"lead {result.lead_id}: {move.from_stage} → {move.to_stage}"
    if move.reason:
        text += f" ({move.reason})"
    if move.recheck_at is not None:
        text += f"; re-check on {move.recheck_at:%Y-%m-%d}"
    Output().success(text)


ActorOpt = Annotated[str | None, typer.Option(help="Who acts (e.g. a rep's e-mail).")]
ReasonOpt = Annotated[str | None, typer.Option(help="Reason code.")]


def _register(action: str, doc: str) -> None:
    def command(
        lead_id: Annotated[str, typer.Argument(help="The lead's id.")],
        actor: ActorOpt = None,
        reason: ReasonOpt = None,
        recheck: Annotated[
            str | None, typer.Option(help="Recycle only: date to re-check the lead.")
        ] = None,
        database: DbOpt = None,
    ) -> None:
        _lead_action(action, lead_id, actor, reason, recheck, database)

    command.__doc__ = doc
    lead_app.command(action)(command)


for _action, _doc in (
    ("accept", "Sales accepts an MQL/PQL (→ SAL)."),
    ("recycle", "Send a lead back to nurture with a reason and a re-check date."),
    ("disqualify", "Disqualify a lead with a reason code."),
    ("convert", "Create an opportunity from a SAL/SQL."),
    ("won", "Mark the opportunity won."),
    ("lost", "Mark the opportunity lost (reason required)."),
    ("reopen", "Reopen a lost or disqualified lead (back to new)."),
):
    _register(_action, _doc)


_EXIT = {
    ModelError: ExitCode.INVALID_MODEL,
    ArtifactError: ExitCode.INVALID_MODEL,
    InputDataError: ExitCode.INVALID_INPUT,
    UsageError: ExitCode.USAGE,
    TransitionError: ExitCode.NOT_ALLOWED,
    NotFoundError: ExitCode.NOT_FOUND,
    DatabaseNotMigratedError: ExitCode.NOT_MIGRATED,
    StorageError: ExitCode.STORAGE,
}


def _exit_code(error: LeadgateError) -> ExitCode:
    for kind in type(error).__mro__:
        if kind in _EXIT:
            return _EXIT[kind]
    return ExitCode.ERROR


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the one place where errors become messages and exit codes."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="leadgate")
    except LeadgateError as error:
        Output().error(error)
        return int(_exit_code(error))
    except (click.exceptions.Abort, KeyboardInterrupt):
        Output().err.print("aborted")
        return 130
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return int(ExitCode.USAGE)
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        Output().err.print(f"[red]error:[/red] {error.strerror or error}{where}", markup=True)
        return int(ExitCode.ERROR)
    # With standalone_mode off, click returns a ``typer.Exit`` code instead of raising.
    return result if isinstance(result, int) else int(ExitCode.OK)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
