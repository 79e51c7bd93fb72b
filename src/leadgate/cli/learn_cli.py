"""``leadgate train``, ``predict`` and ``suggest-points``: predictive scoring from outcomes.

LightGBM and scikit-learn are imported only when a command runs (never at start-up).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from leadgate.cli.output import Output

PredictorOpt = Annotated[Path, typer.Option("--predictor", "-p", help="Predictor JSON.")]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude", help="A column that must never be a feature (repeatable)."),
]


def train_command(
    leads: Annotated[Path, typer.Option(help="Leads file (needs created_at).")],
    outcomes: Annotated[Path, typer.Option(help="Outcomes file (lead_id, won, amount).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictor JSON to write.")],
    events: Annotated[Path | None, typer.Option(help="Events file.")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="Rule model: adds its fit features.")
    ] = None,
    decision_delay: Annotated[
        str, typer.Option(help="Decision moment = created_at + this (e.g. 7d, 36h, 0).")
    ] = "7d",
    exclude: ExcludeOpt = None,
    allow_leaky: Annotated[
        list[str] | None,
        typer.Option(help="Keep a feature even though it alone predicts the outcome."),
    ] = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    time_trend: Annotated[
        bool,
        typer.Option(
            "--time-trend",
            help="Also learn from the decision month (a cohort trend). Only for complete "
            "outcomes: recent leads that have not closed yet would teach it that new leads "
            "never convert.",
        ),
    ] = False,
    no_validation: Annotated[
        bool, typer.Option("--no-validation", help="Skip CV and time-ordered validation.")
    ] = False,
) -> None:
    """Train a calibrated predictor of conversion as of each lead's decision moment."""
    from leadgate.learn import TrainingConfig
    from leadgate.services.training import (
        TrainRequest,
        metrics_table,
        parse_delay,
        train_files,
        write_predictor,
    )

    output = Output()
    request = TrainRequest(
        leads=leads,
        outcomes=outcomes,
        events=events,
        accounts=accounts,
        model=model,
        decision_delay=parse_delay(decision_delay),
        exclude=tuple(exclude or ()),
        time_trend=time_trend,
        config=TrainingConfig(
            folds=max(2, folds), evaluate=not no_validation, allow_leaky=tuple(allow_leaky or ())
        ),
    )
    with output.progress(total_steps=6) as step:
        run = train_files(request, step)
    version = write_predictor(run, out)
    predictor = run.predictor
    for text in run.report.warnings:
        output.warn(text)
    if predictor.metrics:
        output.table(metrics_table(predictor), title="Validation (calibrated probabilities)")
    top = predictor.importances[:10]
    from leadgate.learn import global_importances

    output.table(global_importances(predictor).head(len(top)), title="Top features")
    output.success(
        f"trained on {predictor.training['rows']:,} leads "
        f"({predictor.training['positives']:,} converted), {len(predictor.features)} features, "
        f"calibration {predictor.calibration.method}; wrote {out} (version {version})"
    )


def predict_command(
    predictor: PredictorOpt,
    leads: Annotated[Path, typer.Option(help="Leads file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions file to write.")],
    events: Annotated[Path | None, typer.Option(help="Events file.")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="Rule model (if it was trained with one).")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As of (default: now).")] = None,
    reasons_top: Annotated[
        int | None,
        typer.Option(
            "--reasons-top",
            min=0,
            help="Word reasons only for the N leads most likely to convert (0: none).",
        ),
    ] = None,
) -> None:
    """Predict conversion probability, its grade, expected value and reasons for every lead."""
    from leadgate.cli.app import _parse_as_of
    from leadgate.io import write_frame
    from leadgate.services.predicting import predict_files

    output = Output()
    with output.progress(total_steps=3) as step:
        frame = predict_files(
            predictor,
            leads,
            events=events,
            accounts=accounts,
            model=model,
            as_of=_parse_as_of(as_of),
            reasons_top=reasons_top,
            step=step,
        )
        write_frame(frame, out)
    output.success(f"predicted {frame.height:,} leads; wrote {out}")


def suggest_points_command(
    model: Annotated[Path, typer.Option("--model", "-m", help="Rule model (YAML or JSON).")],
    leads: Annotated[Path, typer.Option(help="Leads file.")],
    outcomes: Annotated[Path, typer.Option(help="Outcomes file.")],
    events: Annotated[Path | None, typer.Option(help="Events file.")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Accounts file.")] = None,
    decision_delay: Annotated[str, typer.Option(help="Decision moment delay.")] = "7d",
    yaml_out: Annotated[
        Path | None, typer.Option("--yaml-out", help="Also write the YAML snippet here.")
    ] = None,
) -> None:
    """Suggest point values for the model's fit and engagement rules from outcomes."""
    from leadgate.services.predicting import suggest_points_files
    from leadgate.services.training import parse_delay

    output = Output()
    with output.progress(total_steps=2) as step:
        suggestions = suggest_points_files(
            model,
            leads,
            outcomes,
            events=events,
            accounts=accounts,
            delay=parse_delay(decision_delay),
            step=step,
        )
    output.table(suggestions.table(), title="Suggested points (log-odds scaled to the model)")
    output.line(suggestions.yaml_snippet())
    if yaml_out is not None:
        yaml_out.write_text(suggestions.yaml_snippet(), "utf-8")
    output.success(
        f"held-out ROC AUC of the rule sum: {suggestions.auc_current:.3f} now → "
        f"{suggestions.auc_suggested:.3f} with the suggested points "
        f"({suggestions.auc_change:+.3f}) on {suggestions.rows:,} leads"
    )


def register(app: typer.Typer) -> None:
    """Add the predictive commands to the CLI."""
    app.command("train")(train_command)
    app.command("predict")(predict_command)
    app.command("suggest-points")(suggest_points_command)


def print_predictor_explanations(
    output: Output,
    predictor: Path,
    model: Path | None,
    leads: Path,
    accounts: Path | None,
    events: Path | None,
    as_of: datetime,
    lead_ids: list[str],
) -> None:
    """Print the predictor's probability and its top reasons for each lead (``explain``)."""
    from leadgate.services.predicting import explain_files

    for lead_id, item in explain_files(
        predictor,
        leads,
        tuple(lead_ids),
        model=model,
        events=events,
        accounts=accounts,
        as_of=as_of,
    ):
        output.heading(f"Lead {lead_id}: predicted conversion {item.probability:.1%}")
        output.line(f"  base log-odds {item.base:+.2f}, total {item.raw:+.2f} before calibration")
        for part in item.up:
            output.line(f"  + {part}")
        for part in item.down:
            output.line(f"  - {part}")
