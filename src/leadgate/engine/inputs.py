"""Frame contracts the engine checks before scoring: columns, types and time zones."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from leadgate.exceptions import InputDataError, Location, Problem, UsageError
from leadgate.model import columns as c
from leadgate.model.compiled import FieldTest, QualificationModel
from leadgate.model.compiler import walk

_NUMERIC_OPS = frozenset({"gt", "gte", "lt", "lte", "between"})
_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Inputs:
    """The three input frames, checked, with events' times in UTC."""

    leads: pl.DataFrame
    accounts: pl.DataFrame
    events: pl.DataFrame


def check_as_of(as_of: datetime) -> datetime:
    """``as_of`` must be timezone-aware; it is returned in UTC."""
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise UsageError(
            f"as_of {as_of.isoformat()} has no time zone.",
            hint="pass an aware datetime, e.g. datetime(2026, 3, 1, tzinfo=UTC)",
        )
    return as_of.astimezone(UTC)


def utc_literal(moment: datetime) -> pl.Expr:
    """A timezone-aware moment as a ``Datetime("us", "UTC")`` constant expression.

    Built from its microseconds since the epoch: ``pl.lit(moment)`` makes a one-value
    series and converts its time zone eagerly (two small queries, ~0.3 ms), which is more
    than a real-time group's whole query on a few rows.
    """
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return pl.lit(micros, pl.Int64).cast(pl.Datetime("us", "UTC"))


def _missing(frame: pl.DataFrame, name: str, needed: list[str]) -> list[Problem]:
    present = frame.columns
    problems = []
    for column in needed:
        if column in present:
            continue
        close = (
            difflib.get_close_matches(column, present, n=1, cutoff=0.6)
            or [name for name in present if column in name or name in column][:1]
        )
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else (f"add a {column!r} column (it may be empty) or change the model")
        )
        problems.append(
            Problem(
                "missing_column",
                f"the {name} frame has no column {column!r}, which the model needs",
                Location(file=name, field=column),
                hint=hint,
            )
        )
    return problems


def _utc(frame: pl.DataFrame, name: str, column: str) -> tuple[pl.DataFrame, list[Problem]]:
    dtype = frame.schema.get(column)
    if dtype is None:
        return frame, []
    if not isinstance(dtype, pl.Datetime):
        return frame, [
            Problem(
                "bad_type",
                f"column {column!r} of {name} has type {dtype}, not a timestamp",
                Location(file=name, field=column),
                hint="parse it first (the file readers do), e.g. with str.to_datetime()",
            )
        ]
    if dtype.time_zone is None:
        return frame, [
            Problem(
                "naive_timestamp",
                f"column {column!r} of {name} has no time zone",
                Location(file=name, field=column),
                hint="times are UTC at every boundary: use dt.replace_time_zone('UTC')",
            )
        ]
    if dtype.time_zone != "UTC":
        frame = frame.with_columns(pl.col(column).dt.convert_time_zone("UTC"))
    return frame, []


def check_inputs(
    model: QualificationModel,
    leads: pl.DataFrame,
    accounts: pl.DataFrame | None,
    events: pl.DataFrame | None,
    *,
    as_of_column: str | None = None,
) -> Inputs:
    """Check the frames against the model; raise one error listing every problem.

    With ``as_of_column`` the leads must also carry that column: each lead's own moment, a
    timezone-aware timestamp without nulls (returned in UTC, microseconds).
    """
    if accounts is None:  # no accounts: every account field is unknown
        accounts = pl.DataFrame(
            {c.ACCOUNT_ID: pl.Series([], dtype=leads.schema.get(c.ACCOUNT_ID, pl.Int64))}
            | {name: pl.Series([], dtype=pl.Null) for name in model.account_fields}
        )
    if events is None:
        events = pl.DataFrame(
            {
                c.LEAD_ID: pl.Series([], dtype=leads.schema.get(c.LEAD_ID, pl.Int64)),
                c.EVENT_TYPE: pl.Series([], dtype=pl.String),
                c.OCCURRED_AT: pl.Series([], dtype=pl.Datetime("us", "UTC")),
            }
            | {name: pl.Series([], dtype=pl.Null) for name in model.event_fields}
        )
    problems: list[Problem] = []
    problems += _missing(leads, "leads", [c.LEAD_ID, *model.lead_fields])
    problems += _missing(accounts, "accounts", [c.ACCOUNT_ID, *model.account_fields])
    problems += _missing(events, "events", [*c.EVENT_REQUIRED, *model.event_fields])
    events, time_problems = _utc(events, "events", c.OCCURRED_AT)
    problems += time_problems
    if as_of_column is not None:
        leads, moment_problems = _moments(leads, as_of_column)
        problems += moment_problems
    if c.ACCOUNT_ID not in leads.columns:
        leads = leads.with_columns(pl.lit(None, accounts.schema[c.ACCOUNT_ID]).alias(c.ACCOUNT_ID))
    if not problems:
        problems += _id_types(leads, accounts, events)
    if not problems:
        lead_numbers, account_numbers = numeric_fields(model)
        leads, number_problems = _numbers(leads, "leads", lead_numbers)
        problems += number_problems
        accounts, number_problems = _numbers(accounts, "accounts", account_numbers)
        problems += number_problems
    if problems:
        raise InputDataError(problems, summary=f"{len(problems)} problem(s) with the input frames.")
    return Inputs(leads=leads, accounts=accounts, events=events)


def numeric_fields(model: QualificationModel) -> tuple[frozenset[str], frozenset[str]]:
    """Lead and account columns the model compares as numbers (ranges, or a value per unit)."""
    from leadgate.engine.lead_plan import lead_conditions

    compared = {
        node.field
        for cond in lead_conditions(model)
        for node in walk(cond)
        if isinstance(node, FieldTest) and node.op in _NUMERIC_OPS
    }
    if model.value.from_field is not None:
        compared.add(model.value.from_field.field)
    account = {f.removeprefix(c.ACCOUNT_PREFIX) for f in compared if f.startswith(c.ACCOUNT_PREFIX)}
    return frozenset(compared & set(model.lead_fields)), frozenset(account)


def _numbers(
    frame: pl.DataFrame, name: str, fields: frozenset[str]
) -> tuple[pl.DataFrame, list[Problem]]:
    """Text columns the model compares as numbers are parsed (blank is missing); a value that
    is not a number is reported with its row instead of failing inside the query."""
    casts: list[pl.Expr] = []
    problems: list[Problem] = []
    for column in sorted(fields):
        dtype = frame.schema.get(column)
        if dtype is None or not isinstance(dtype, _TEXT_TYPES):
            continue
        text = pl.col(column).cast(pl.String).str.strip_chars()
        number = text.cast(pl.Float64, strict=False)
        bad = frame.select(
            pl.int_range(pl.len()).filter(number.is_null() & (text.str.len_bytes() > 0))
        ).to_series()
        if bad.len():
            first = int(bad[0])
            problems.append(
                Problem(
                    "bad_type",
                    f"column {column!r} of {name} holds text that is not a number in "
                    f"{bad.len():,} row(s), first {frame[first, column]!r}, and the model "
                    "compares it as a number",
                    Location(file=name, row=first + 1, field=column),
                    hint="clean the values (digits, optional decimal point) or leave them empty",
                )
            )
        casts.append(number.alias(column))
    return (frame.with_columns(casts) if casts and not problems else frame), problems


def _moments(leads: pl.DataFrame, name: str) -> tuple[pl.DataFrame, list[Problem]]:
    """Each lead's own as-of moment: present, an aware timestamp, never null, one per lead."""
    problems = _missing(leads, "leads", [name])
    if problems:
        problems = [
            Problem(
                "missing_as_of_column",
                f"the leads frame has no column {name!r} for the per-lead as_of",
                p.location,
                hint=p.hint
                if p.hint.startswith("did you mean")
                else "add each lead's as-of moment as a UTC timestamp column, or pass a datetime",
            )
            for p in problems
        ]
        return leads, problems
    leads, problems = _utc(leads, "leads", name)
    if problems:
        return leads, problems
    nulls = leads.get_column(name).null_count()
    if nulls:
        problems.append(
            Problem(
                "null_as_of",
                f"column {name!r} of leads has {nulls:,} null as-of moment(s)",
                Location(file="leads", field=name),
                hint="every lead needs its own moment; fill the gaps or drop those leads",
            )
        )
    if c.LEAD_ID in leads.columns and leads.get_column(c.LEAD_ID).is_duplicated().any():
        problems.append(
            Problem(
                "duplicate_lead_id",
                "lead_id is not unique, so a per-lead as_of is ambiguous",
                Location(file="leads", field=c.LEAD_ID),
                hint="keep one row per lead (e.g. leads.unique('lead_id'))",
            )
        )
    moment = pl.col(name).cast(pl.Datetime("us", "UTC"))
    return leads.with_columns(moment), problems


def _id_types(leads: pl.DataFrame, accounts: pl.DataFrame, events: pl.DataFrame) -> list[Problem]:
    problems = []
    pairs = (
        ("events", events, c.LEAD_ID, leads.schema[c.LEAD_ID]),
        ("accounts", accounts, c.ACCOUNT_ID, leads.schema.get(c.ACCOUNT_ID)),
    )
    for name, frame, column, expected in pairs:
        actual = frame.schema.get(column)
        if expected is None or actual is None or frame.height == 0:
            continue
        if actual != expected and not (actual.is_numeric() and expected.is_numeric()):
            problems.append(
                Problem(
                    "id_type_mismatch",
                    f"{name}.{column} is {actual} but the leads' {column} is {expected}",
                    Location(file=name, field=column),
                    hint="use the same type for ids in every frame (e.g. cast both to String)",
                )
            )
    return problems
