"""``leadgate team import``, ``leadgate route`` and ``leadgate sla sweep``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from leadgate.cli.output import Output

team_app = typer.Typer(help="Sales teams: reps, capacities, calendars.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA clocks: breaches, escalations, attainment.", no_args_is_help=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database", help="Database URL (default: LEADGATE_DATABASE_URL or leadgate.db)."
    ),
]
ModelOpt = Annotated[Path, typer.Option("--model", "-m", help="Model YAML or compiled JSON.")]


def _url(database: str | None) -> str:
    from leadgate.settings import Settings

    return database or Settings().database_url


def _now(text: str | None) -> datetime:
    from leadgate.cli.app import _parse_as_of

    return _parse_as_of(text)  # the entry point reads the clock when no time is given


@team_app.command("import")
def team_import(
    file: Annotated[Path, typer.Argument(help="Roster YAML (teams, reps, calendars).")],
    database: DbOpt = None,
) -> None:
    """Load teams, reps, capacities, absences, working hours and holidays into the store."""
    from leadgate.services.database import open_database
    from leadgate.services.routing import import_roster

    with open_database(_url(database)) as engine:
        summary = import_roster(engine, file)
    Output().success(f"{summary.file}: {summary.teams} teams, {summary.reps} reps stored")


def route(
    model: ModelOpt,
    at: Annotated[str | None, typer.Option("--at", help="Assignment time (default now).")] = None,
    database: DbOpt = None,
) -> None:
    """Assign every unassigned qualified lead to a rep, as the model's routing rules say."""
    from leadgate.model import load_model
    from leadgate.services.database import open_database
    from leadgate.services.routing import route_leads

    compiled = load_model(model)
    with open_database(_url(database)) as engine:
        summary = route_leads(engine, compiled, at=_now(at))
    output = Output()
    output.success(
        f"{summary.assigned:,} of {summary.considered:,} leads assigned ({summary.model_version})"
    )
    if summary.held_for_consent:
        output.warn(
            f"{summary.held_for_consent:,} leads held back: no valid consent for outreach "
            "(they are scored, and routed once consent is recorded)"
        )
    if summary.by_reason.height:
        output.table(summary.by_reason, title="Assignments")


@sla_app.command("sweep")
def sla_sweep(
    model: ModelOpt,
    now: Annotated[
        str | None, typer.Option("--now", help="Sweep as of (ISO; default now).")
    ] = None,
    database: DbOpt = None,
) -> None:
    """Mark SLA breaches, escalate them once, and show attainment and speed-to-lead."""
    from leadgate.model import load_model
    from leadgate.services.database import open_database
    from leadgate.services.sla import sweep

    compiled = load_model(model)
    moment = _now(now) if now is not None else datetime.now(UTC)
    with open_database(_url(database)) as engine:
        summary = sweep(engine, compiled, now=moment)
    output = Output()
    output.success(
        f"{summary.breached:,} new breaches as of {moment:%Y-%m-%d %H:%M} UTC: "
        f"{summary.reassigned:,} reassigned, {summary.notified:,} managers notified"
    )
    if summary.attainment.height:
        output.table(summary.attainment, title="SLA attainment (response times in seconds)")


def register(app: typer.Typer) -> None:
    """Add ``team``, ``route`` and ``sla`` to the CLI."""
    app.add_typer(team_app, name="team")
    app.add_typer(sla_app, name="sla")
    app.command("route")(route)
