"""Routing use cases: import a team roster, and assign unassigned qualified leads.

A roster (teams, reps, weights, capacities, absences, working hours, holidays, time zones)
is operational data, not model: it lives in the ``teams``/``owners`` tables. Routing reads
it, the model's routing rules and the stored leads, and records every assignment with the
rule that made it and the model version, in one transaction with the owners it sets, the
teams' cursors, the SLA due times it fixes and the outbox messages.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from leadgate.engine import routing as rt
from leadgate.engine.inputs import utc_literal
from leadgate.engine.sla import TeamCalendar, weekday_hours
from leadgate.exceptions import InputDataError, Location, Problem
from leadgate.model import columns as c
from leadgate.model.loader import locate, path_text
from leadgate.services.privacy import CONSENT_OK, ConsentPolicy, flags_from
from leadgate.storage import privacy as privacy_store
from leadgate.storage import read_accounts, read_leads, subsets, transaction, update_lead_state
from leadgate.storage import routing as store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from leadgate.model.compiled import QualificationModel

NAMESPACE: Final = uuid.UUID("5b0c3c52-8a8e-4c55-9a51-3f4f3b0e7a10")
Period = Literal["day", "week", "month"]
_UTC: Final = pl.Datetime("us", "UTC")
#: Queries over a live group's few leads, reps or clocks run unoptimised (it costs more).
_PLAIN: Final = pl.QueryOptFlags.none()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AbsenceSpec(_Strict):
    from_: date = Field(alias="from")
    to: date


class RepSpec(_Strict):
    id: Annotated[str, Field(min_length=1)]
    name: str
    email: str | None = None
    capacity: Annotated[int, Field(ge=0)] | None = None
    weight: Annotated[float, Field(ge=0)] = 1.0
    active: bool = True
    out_of_office: bool | list[AbsenceSpec] = False


class TeamSpec(_Strict):
    id: Annotated[str, Field(min_length=1)]
    name: str = ""
    timezone: str = "UTC"
    capacity_period: Period = "week"
    manager: str | None = None
    working_hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]] = (
        Field(
            default_factory=lambda: {
                d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")
            }
        )
    )
    holidays: list[date] = Field(default_factory=list)
    reps: list[RepSpec] = Field(default_factory=list)


class RosterSpec(_Strict):
    teams: list[TeamSpec]


@dataclass(frozen=True)
class RosterSummary:
    """What a roster import stored."""

    file: Path
    teams: int
    reps: int


def _problem(document: Any, loc: tuple[str | int, ...], name: str, code: str, msg: str) -> Problem:
    return Problem(code, msg, locate(document, loc, name), path_text(loc))


def parse_roster(text: str, name: str = "<roster>") -> RosterSpec:
    """Parse and check a roster YAML text.

    Raises:
        InputDataError: every problem, each with file, line and column.
    """
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(file=name, line=None if mark is None else mark.line + 1)
        raise InputDataError(
            [Problem("yaml_syntax", str(getattr(exc, "problem", exc)), where)],
            summary=f"{name} is not valid YAML.",
        ) from None
    try:
        roster = RosterSpec.model_validate(_plain(document))
    except ValidationError as exc:
        problems = [
            _problem(
                document,
                tuple(k for k in err["loc"] if isinstance(k, int | str)),
                name,
                "bad_roster",
                err["msg"],
            )
            for err in exc.errors()
        ]
        raise InputDataError(problems, summary=f"{name}: the roster is invalid.") from None
    problems = list(_check(roster, document, name))
    if problems:
        raise InputDataError(problems, summary=f"{name}: the roster is invalid.")
    return roster


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _check(roster: RosterSpec, document: Any, name: str) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, team in enumerate(roster.teams):
        try:
            ZoneInfo(team.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                _problem(
                    document,
                    ("teams", i, "timezone"),
                    name,
                    "bad_timezone",
                    f"unknown time zone {team.timezone!r} (use an IANA name like Europe/Berlin)",
                )
            )
        for day, spans in team.working_hours.items():
            for j, span in enumerate(spans):
                if _span(span) is None:
                    problems.append(
                        _problem(
                            document,
                            ("teams", i, "working_hours", day, j),
                            name,
                            "bad_hours",
                            f"{span!r} is not a working-hours span like '09:00-17:00'",
                        )
                    )
        for j, rep in enumerate(team.reps):
            if rep.id in seen:
                problems.append(
                    _problem(
                        document,
                        ("teams", i, "reps", j, "id"),
                        name,
                        "duplicate_rep",
                        f"rep {rep.id!r} is listed twice",
                    )
                )
            seen.add(rep.id)
    return problems


def _span(text: str) -> tuple[time, time] | None:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        return None
    return (start, end) if end > start else None


def import_roster(engine: Engine, path: Path) -> RosterSummary:
    """Store a roster file's teams, reps and absences (upserts; safe to repeat)."""
    roster = parse_roster(path.read_text("utf-8"), str(path))
    teams: list[dict[str, Any]] = []
    owners: list[dict[str, Any]] = []
    absences: list[dict[str, Any]] = []
    for team in roster.teams:
        zone = ZoneInfo(team.timezone)
        teams.append(
            {
                "team_id": team.id,
                "name": team.name or team.id,
                "timezone": team.timezone,
                "working_hours": dict(team.working_hours),
                "holidays": [d.isoformat() for d in team.holidays],
                "capacity_period": team.capacity_period,
                "manager_id": team.manager,
            }
        )
        for position, rep in enumerate(team.reps, start=1):
            always_away = rep.out_of_office is True
            owners.append(
                {
                    "owner_id": rep.id,
                    "name": rep.name,
                    "email": rep.email,
                    "team_id": team.id,
                    "capacity": rep.capacity,
                    "active": rep.active,
                    "out_of_office": always_away,
                    "weight": rep.weight,
                    "position": position,
                }
            )
            for away in rep.out_of_office if isinstance(rep.out_of_office, list) else []:
                absences.append(
                    {
                        "owner_id": rep.id,
                        "starts_at": _local_midnight(away.from_, zone),
                        "ends_at": _local_midnight(away.to + timedelta(days=1), zone),
                    }
                )
    with transaction(engine) as conn:
        store.save_roster(conn, teams, owners, absences)
    return RosterSummary(path, len(teams), len(owners))


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def team_calendars(conn: Connection) -> dict[str, TeamCalendar]:
    """Every stored team's working calendar."""
    return {
        team["team_id"]: _calendar(
            team["team_id"],
            team["timezone"],
            _frozen_hours(team.get("working_hours")),
            tuple(team.get("holidays") or ()),
        )
        for team in store.read_teams(conn)
    }


def _frozen_hours(hours: object) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    if not isinstance(hours, dict):
        return None
    return tuple((day, tuple(texts)) for day, texts in hours.items())


@functools.lru_cache(maxsize=64)
def _calendar(
    team_id: str,
    timezone: str,
    hours: tuple[tuple[str, tuple[str, ...]], ...] | None,
    holidays: tuple[str, ...],
) -> TeamCalendar:
    """A team's calendar from its stored row, kept: the teams are read (and their calendars
    needed) a few times per live group that moves or routes a lead, and rarely change."""
    spans = (
        {day: [s for s in map(_span, texts) if s is not None] for day, texts in hours}
        if hours is not None
        else None
    )
    return TeamCalendar(
        team_id,
        timezone,
        weekday_hours(spans) if spans is not None else TeamCalendar("x").hours,
        tuple(date.fromisoformat(d) for d in holidays),
    )


def read_roster(conn: Connection, at: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The engine's roster frame as of ``at`` and each rep's load in its current period."""
    owners = store.read_owners_at(conn, at)
    roster = (
        owners.lazy()
        .select(_ROSTER)
        .filter(pl.col("team_id").is_not_null())
        .collect(engine="in-memory", optimizations=_PLAIN)
    )
    starts = {
        team["team_id"]: period_start(at, team["timezone"], team["capacity_period"])
        for team in store.read_teams(conn)
    }
    owners_since: dict[datetime, list[str]] = {}
    for owner, team in roster.select("owner_id", "team_id").iter_rows():
        if team in starts:
            owners_since.setdefault(starts[team], []).append(owner)
    load = subsets.assignment_load(conn, owners_since)
    return roster, load


_ROSTER: Final = (
    pl.col("owner_id"),
    pl.col("team_id"),
    pl.col("position").fill_null(0),
    pl.col("weight").fill_null(1.0),
    pl.col("capacity"),
    (pl.col("active") & ~pl.col("out_of_office") & ~pl.col("away")).alias("eligible"),
)


def period_start(at: datetime, timezone: str, period: str) -> datetime:
    """Start (UTC) of the capacity period containing ``at`` in the team's time zone."""
    local = at.astimezone(ZoneInfo(timezone))
    day = local.date()
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    return _local_midnight(day, ZoneInfo(timezone))


def message_id(kind: str, key: str) -> str:
    """A stable id for an outbox message, so a retried use case never queues it twice."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


@dataclass(frozen=True)
class RouteSummary:
    """What a routing run did."""

    model_version: str
    considered: int
    assigned: int
    by_reason: pl.DataFrame  # reason, team_id, leads
    held_for_consent: int = 0
    """Routable leads left alone because they may not be contacted (see services.privacy)."""


def route_leads(
    engine: Engine,
    model: QualificationModel,
    *,
    at: datetime,
    consent: ConsentPolicy | None = None,
) -> RouteSummary:
    """Assign every unassigned lead in a routed stage, in the order they qualified.

    Leads whose consent does not allow outreach are skipped without a record (they stay
    unassigned and are reconsidered on every run, so a later consent routes them). The
    consent policy is the model's ``routing.consent`` unless ``consent`` is given.
    """
    with transaction(engine) as conn:
        queued = _routable(conn, model)
        done, held = _route(conn, model, queued, at, consent)
    by_reason = (
        done.group_by("reason", "team_id")
        .len("leads")
        .sort("leads", "reason", descending=[True, False])
    )
    return RouteSummary(
        model.version,
        done.height,
        done.filter(pl.col("owner_id").is_not_null()).height,
        by_reason,
        held,
    )


def route_within(
    conn: Connection,
    model: QualificationModel,
    *,
    lead_ids: Sequence[str],
    at: datetime,
    consent: ConsentPolicy | None = None,
) -> pl.DataFrame:
    """Route those of ``lead_ids`` that are routable, inside the caller's transaction.

    For the service: after an event moves a lead into a routed stage, the assignment, the
    owner, the cursor, the SLA due time and the outbox message commit with the event. Only
    these leads (and their accounts) are read; consent is honoured as in :func:`route_leads`.

    Returns:
        The assignments made (``ASSIGNMENT_SCHEMA`` columns), empty when none was routable.
    """
    ids = sorted({str(i) for i in lead_ids})
    if not ids:
        return pl.DataFrame(schema=rt.ASSIGNMENT_SCHEMA)
    queued = _routable(conn, model, ids)
    done, _held = _route(conn, model, queued, at, consent)
    return done


def _route(
    conn: Connection,
    model: QualificationModel,
    queued: pl.DataFrame,
    at: datetime,
    consent: ConsentPolicy | None = None,
) -> tuple[pl.DataFrame, int]:
    """Assign ``queued`` leads (consent permitting) and record it; (assignments, held)."""
    if queued.height == 0:
        return pl.DataFrame(schema=rt.ASSIGNMENT_SCHEMA), 0
    # The leads as just read carry ``erased_at``: only their consent records are read
    # (what ``consent_flags`` does, without reading the leads a second time).
    ids = queued.get_column(c.LEAD_ID).to_list()
    erased = queued.select(pl.col(c.LEAD_ID).cast(pl.String), "erased_at")
    policy = consent if consent is not None else ConsentPolicy.of(model)
    flags = flags_from(privacy_store.read_consents(conn, ids), erased, policy)
    allowed = flags.filter(pl.col(CONSENT_OK)).get_column(c.LEAD_ID)
    leads = queued.filter(pl.col(c.LEAD_ID).is_in(allowed.implode()))
    held = queued.height - leads.height
    if leads.height == 0:
        return pl.DataFrame(schema=rt.ASSIGNMENT_SCHEMA), held
    accounts = leads.get_column(c.ACCOUNT_ID).drop_nulls().unique().to_list()
    roster, load = read_roster(conn, at)
    result = rt.assign(
        leads,
        model,
        roster,
        load=load,
        cursors=store.read_cursors(conn),
        account_owners=subsets.account_owners(conn, accounts),
    )
    record_assignments(conn, result.assignments, model.version, at)
    store.save_cursors(conn, result.cursors, now=at)
    _fix_due_times(conn, result.assignments, at)
    return result.assignments, held


def _routable(
    conn: Connection, model: QualificationModel, lead_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """Unassigned leads in a routed stage (of ``lead_ids`` when given), in arrival order."""
    stages = list(model.routing.stages)
    leads = read_leads(conn, lead_ids)
    unassigned = pl.col(c.STAGE).is_in(stages) & pl.col("owner_id").is_null()
    entered = pl.coalesce(
        *[pl.col(f"became_{s}_at") for s in stages if f"became_{s}_at" in leads.columns],
        pl.col("stage_changed_at"),
    )
    fields = [f for f in rt.routing_fields(model) if f.startswith(c.ACCOUNT_PREFIX)]
    if not fields:  # one query: a live group's few leads
        plan = leads.lazy().filter(unassigned).sort(entered, c.LEAD_ID, nulls_last=True)
        return plan.collect(engine="in-memory", optimizations=_PLAIN)
    queued = leads.filter(unassigned)
    if queued.height:
        wanted = queued.get_column(c.ACCOUNT_ID).drop_nulls().unique().to_list()
        accounts = read_accounts(conn) if lead_ids is None else subsets.read_accounts(conn, wanted)
        present = [f for f in fields if f.removeprefix(c.ACCOUNT_PREFIX) in accounts.columns]
        queued = queued.join(
            accounts.select(
                c.ACCOUNT_ID,
                *[pl.col(f.removeprefix(c.ACCOUNT_PREFIX)).alias(f) for f in present],
            ),
            on=c.ACCOUNT_ID,
            how="left",
        )
    return queued.sort(entered, c.LEAD_ID, nulls_last=True)


def record_assignments(
    conn: Connection, assignments: pl.DataFrame, version: str, at: datetime
) -> None:
    """Store assignment rows, set the leads' owners and queue one message per assignment."""
    if assignments.height == 0:
        return
    stamped = assignments.lazy().with_columns(
        pl.lit(version).alias("model_version"),
        utc_literal(at).alias("assigned_at"),
    )
    kinds = pl.when(pl.col("owner_id").is_null()).then(pl.lit("lead.unassigned"))
    # The three frames in one unoptimised run: a live group assigns a lead or two.
    rows, owned, messages = pl.collect_all(
        [
            stamped,
            stamped.filter(pl.col("owner_id").is_not_null()).select(c.LEAD_ID, "owner_id"),
            stamped.with_columns(kinds.otherwise(pl.lit("lead.assigned")).alias("kind")),
        ],
        engine="in-memory",
        optimizations=pl.QueryOptFlags.none(),
    )
    store.insert_assignments(conn, rows)
    if owned.height:
        update_lead_state(conn, owned, now=at)
    store.add_to_outbox(
        conn,
        [
            {
                "message_id": message_id(row["kind"], f"{row['lead_id']}:{at.isoformat()}"),
                "kind": row["kind"],
                "payload": {
                    k: row[k]
                    for k in (
                        "lead_id",
                        "owner_id",
                        "team_id",
                        "rule_id",
                        "reason",
                        "escalate_to",
                        "model_version",
                    )
                },
                "created_at": at,
            }
            for row in messages.to_dicts()
        ],
    )


def _fix_due_times(conn: Connection, assignments: pl.DataFrame, at: datetime) -> None:
    """Open clocks of newly assigned leads get the team and owner they now have.

    A clock this very use case started (at ``at``) with the team its lead now gets already
    has the right due time — the usual case: a lead enters a stage, its clock starts with
    the team routing then picks — so only the others are worked out again.
    """
    owner = assignments.get_column("owner_id")
    if owner.null_count() == owner.len():
        return
    # Clocks of leads without an owner are dropped by the join below.
    ids = assignments.get_column(c.LEAD_ID).filter(owner.is_not_null()).to_list()
    clocks = store.read_clocks(conn, open_only=True, lead_ids=ids)
    if clocks.height == 0:
        return
    from leadgate.services.sla import due_for

    owned = assignments.lazy().filter(pl.col("owner_id").is_not_null())
    joined = (
        clocks.lazy()
        .rename({"team_id": "__was_team"})
        .drop("owner_id")
        .join(owned.select(c.LEAD_ID, "team_id", "owner_id"), on=c.LEAD_ID, how="inner")
    )
    current = (pl.col("started_at").cast(_UTC) == utc_literal(at)) & pl.col("team_id").eq_missing(
        pl.col("__was_team")
    )
    written = ("id", "team_id", "owner_id", "due_at")
    # One unoptimised run for a group's few clocks: each eager step's fixed cost is the work.
    updated, stale = pl.collect_all(
        [joined.filter(current).select(written), joined.filter(~current)],
        engine="in-memory",
        optimizations=_PLAIN,
    )
    if stale.height:
        fresh = stale.select(*written[:3], due_for(conn, stale).alias("due_at"))
        updated = pl.concat([updated, fresh], how="vertical_relaxed")
    store.update_clocks(conn, updated)


__all__ = [
    "RosterSpec",
    "RosterSummary",
    "RouteSummary",
    "import_roster",
    "message_id",
    "parse_roster",
    "period_start",
    "read_roster",
    "record_assignments",
    "route_leads",
    "route_within",
    "team_calendars",
]
