"""``leadgate``: validate and compile models, score files, explain leads, run the demo."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import click
import typer

from leadgate.cli.exit_codes import ExitCode
from leadgate.cli.output import Output
from leadgate.exceptions import (
    ArtifactError,
    InputDataError,
    LeadgateError,
    ModelError,
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
    )
    with output.progress(total_steps=7) as step:
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
    )
    for item in explanations:
        output.heading(item.headline)
        for line in item.lines:
            output.line(f"  {line}")


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


_EXIT = {
    ModelError: ExitCode.INVALID_MODEL,
    ArtifactError: ExitCode.INVALID_MODEL,
    InputDataError: ExitCode.INVALID_INPUT,
    UsageError: ExitCode.USAGE,
}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the one place where errors become messages and exit codes."""
    try:
        app(args=argv, standalone_mode=False, prog_name="leadgate")
    except LeadgateError as error:
        Output().error(error)
        return int(_EXIT.get(type(error), ExitCode.ERROR))
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
    return int(ExitCode.OK)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
