"""SLA clocks: due times in a team's working calendar, breaches, attainment. Pure Polars.

A due time ``N`` working seconds after ``start`` is found without walking the calendar per
lead: the team's working intervals over the needed span are laid out in UTC (local hours,
weekends and holidays resolved through ``zoneinfo``, so DST changes are exact) with the
cumulative working seconds before each; an as-of join finds the working seconds elapsed at
``start``, a second one the interval where ``elapsed + N`` is reached.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final

import polars as pl

TEAM_ID: Final = "team_id"
STARTED_AT: Final = "started_at"
DUE_AT: Final = "due_at"
STOPPED_AT: Final = "stopped_at"
BREACHED_AT: Final = "breached_at"
SECONDS: Final = "seconds"
WORKING: Final = "working"
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UTC = pl.Datetime("us", "UTC")
#: Due times are worked out for a few clocks at a time: query optimisation costs more.
_PLAIN: Final = pl.QueryOptFlags.none()


@dataclass(frozen=True)
class TeamCalendar:
    """When a team works: local hours per weekday (1 = Monday), holidays, time zone."""

    team_id: str
    timezone: str = "UTC"
    #: ``(weekday, start, end)`` local working intervals, e.g. ``(1, time(9), time(17))``
    hours: tuple[tuple[int, time, time], ...] = field(
        default=tuple((day, time(9), time(17)) for day in range(1, 6))
    )
    holidays: tuple[date, ...] = ()

    @property
    def weekly_seconds(self) -> int:
        return sum(_seconds(end) - _seconds(start) for _, start, end in self.hours)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def working_intervals(calendar: TeamCalendar, first: date, last: date) -> pl.DataFrame:
    """The team's working intervals from local date ``first`` to ``last`` (inclusive) in UTC,
    sorted, with the working seconds of the frame's intervals before (``cum_before``) and up to
    the end of (``cum_end``) each one.
    """
    return _layout(calendar, first, last).clone()


@functools.lru_cache(maxsize=256)
def _layout(calendar: TeamCalendar, first: date, last: date) -> pl.DataFrame:
    """:func:`working_intervals`, kept: a pure function of a frozen calendar and two dates.

    Every clock started on the same day lays out the same intervals (the service starts a
    few clocks per request group), so they are built once per team and day. Callers never
    modify the frame (the public function hands out a copy).
    """
    schema = pl.Schema(
        {"start": _UTC, "end": _UTC, "cum_before": pl.Int64(), "cum_end": pl.Int64()}
    )
    if not calendar.hours or last < first:
        return pl.DataFrame(schema=schema)
    days = pl.LazyFrame({"day": pl.date_range(first, last, "1d", eager=True)}).with_columns(
        pl.col("day").dt.weekday().alias("weekday")
    )
    hours = pl.LazyFrame(
        {
            "weekday": [h[0] for h in calendar.hours],
            "from_s": [_seconds(h[1]) for h in calendar.hours],
            "to_s": [_seconds(h[2]) for h in calendar.hours],
        },
        schema=pl.Schema({"weekday": pl.Int8(), "from_s": pl.Int64(), "to_s": pl.Int64()}),
    )
    holidays = pl.LazyFrame({"day": list(calendar.holidays)}, schema={"day": pl.Date})
    local = (
        days.join(hours, on="weekday", how="inner")
        .join(holidays, on="day", how="anti")
        .with_columns(midnight=pl.col("day").cast(pl.Datetime("us")))
    )

    def at(column: str) -> pl.Expr:
        naive = pl.col("midnight") + pl.duration(seconds=pl.col(column))
        aware = naive.dt.replace_time_zone(
            calendar.timezone, ambiguous="earliest", non_existent="null"
        )
        return aware.dt.convert_time_zone("UTC")

    length = (pl.col("end") - pl.col("start")).dt.total_seconds()
    return (
        local.select(at("from_s").alias("start"), at("to_s").alias("end"))
        .drop_nulls()
        .filter(pl.col("end") > pl.col("start"))
        .sort("start")
        .with_columns(
            (length.cum_sum() - length).cast(pl.Int64).alias("cum_before"),
            length.cum_sum().cast(pl.Int64).alias("cum_end"),
        )
        .collect(engine="in-memory", optimizations=_PLAIN)
    )


def due_times(clocks: pl.DataFrame, calendars: dict[str, TeamCalendar] | None = None) -> pl.Series:
    """When each clock is due: ``started_at`` plus ``seconds`` (working time if ``working``).

    Args:
        clocks: ``started_at`` (UTC), ``seconds``, ``working`` and ``team_id``.
        calendars: Calendar per team; a team without one (or no team) works around the
            clock in UTC, so its working time equals calendar time.

    Returns:
        ``due_at`` per row, in the order of ``clocks``.
    """
    calendars = calendars or {}
    # Two unoptimised queries (each team's bounds, then every due time at once): the
    # service computes due times for a few clocks at a time, where each eager step's fixed
    # cost is what counts.
    frame = clocks.lazy().select(_INPUTS).with_row_index("__row")
    in_calendar = pl.col(WORKING) & pl.col(TEAM_ID).is_in(list(calendars)).fill_null(False)
    parts = [frame.filter(~in_calendar).select("__row", _CALENDAR_DUE)]
    bounds = (
        frame.filter(in_calendar)
        .group_by(TEAM_ID)
        .agg(_BOUNDS)
        .collect(engine="in-memory", optimizations=_PLAIN)
    )
    teams = bounds.to_dict(as_series=False)  # one row per team
    laid_out: list[tuple[str, datetime, datetime, int, int | None]] = []
    needed: list[pl.LazyFrame] = []
    for team, first, last, most in zip(
        teams[TEAM_ID], teams["__first"], teams["__last"], teams["__most"], strict=True
    ):
        calendar = calendars[str(team)]
        group = frame.filter(in_calendar & (pl.col(TEAM_ID) == team))
        if calendar.weekly_seconds <= 0:
            parts.append(group.select("__row", pl.lit(None, _UTC).alias(DUE_AT)))
            continue
        intervals = _layout(calendar, *_first_span(calendar, first, last, most))
        found = _found(group, intervals).cache()  # read twice below
        parts.append(found.select("__row", DUE_AT))
        worked = intervals.get_column("cum_end").max()
        laid_out.append((str(team), first, last, most, None if worked is None else int(worked)))  # type: ignore[arg-type]
        needed.append(found.select(pl.col("__target").max()))
    due, *targets = pl.collect_all(
        [pl.concat(parts).sort("__row"), *needed], engine="in-memory", optimizations=_PLAIN
    )
    short = [
        (team, first, last, most)
        for (team, first, last, most, worked), target in zip(laid_out, targets, strict=True)
        if not _covers(worked, target.item())
    ]
    if short:  # rare (long holidays): the span laid out first was too short; lay out more
        redone = pl.concat(
            [
                _working_due(
                    frame.filter(in_calendar & (pl.col(TEAM_ID) == team)),
                    calendars[team],
                    first,
                    last,
                    most,
                )
                for team, first, last, most in short
            ]
        )
        due = (
            pl.concat([due.lazy().join(redone, on="__row", how="anti"), redone])
            .sort("__row")
            .collect(engine="in-memory", optimizations=_PLAIN)
        )
    return due.get_column(DUE_AT).cast(_UTC)


_INPUTS: Final = (
    pl.col(STARTED_AT).cast(_UTC),
    pl.col(SECONDS).cast(pl.Int64),
    pl.col(WORKING).cast(pl.Boolean),
    pl.col(TEAM_ID).cast(pl.String),
)
_CALENDAR_DUE: Final = (pl.col(STARTED_AT) + pl.duration(seconds=pl.col(SECONDS))).alias(DUE_AT)
_BOUNDS: Final = (
    pl.col(STARTED_AT).min().alias("__first"),
    pl.col(STARTED_AT).max().alias("__last"),
    pl.col(SECONDS).max().alias("__most"),
)
_WORKING_DUE: Final = (
    pl.col("start") + pl.duration(seconds=pl.col("__target") - pl.col("cum_before"))
).alias(DUE_AT)


def _span_days(calendar: TeamCalendar, most: int) -> int:
    """Days laid out first after the last start: enough for ``most`` seconds of working
    time unless holidays are unusually long."""
    weeks = math.ceil(most / calendar.weekly_seconds)
    return 7 * weeks + 8 + len(calendar.holidays)


def _first_span(
    calendar: TeamCalendar, first: datetime, last: datetime, most: int
) -> tuple[date, date]:
    """The local dates laid out first for clocks started between ``first`` and ``last``."""
    span = _span_days(calendar, most)
    return first.date() - timedelta(days=2), last.date() + timedelta(days=span)


def _covers(worked: int | None, needed: object) -> bool:
    """Whether the laid-out calendar (``worked`` seconds in all) reaches every target."""
    return worked is not None and needed is not None and needed <= worked  # type: ignore[operator]


def _found(group: pl.LazyFrame, intervals: pl.DataFrame) -> pl.LazyFrame:
    """``__row, __target, due_at`` of a team's clocks in the laid-out ``intervals``."""
    return (
        _elapsed(group, intervals.lazy())
        .sort("__target")
        .join_asof(intervals.lazy(), left_on="__target", right_on="cum_end", strategy="forward")
        .select("__row", "__target", _WORKING_DUE)
    )


def _working_due(
    group: pl.LazyFrame, calendar: TeamCalendar, first: datetime, last: datetime, most: int
) -> pl.LazyFrame:
    """Due times of one team's working-time clocks (started between ``first`` and ``last``,
    the longest ``most`` seconds) whose first span (:func:`_first_span`) fell short: twice,
    four times ... as many days until one covers them all."""
    span = 2 * _span_days(calendar, most)
    while True:
        intervals = _layout(
            calendar, first.date() - timedelta(days=2), last.date() + timedelta(days=span)
        )
        found = _found(group, intervals).collect(engine="in-memory", optimizations=_PLAIN)
        worked = intervals.get_column("cum_end").max()
        if _covers(None if worked is None else int(worked), found.get_column("__target").max()):  # type: ignore[arg-type]
            return found.lazy().select("__row", DUE_AT)
        span *= 2


def _elapsed(group: pl.LazyFrame, intervals: pl.LazyFrame) -> pl.LazyFrame:
    """Working seconds of the laid-out calendar before each start, plus the clock's target."""
    located = group.sort(STARTED_AT).join_asof(
        intervals, left_on=STARTED_AT, right_on="start", strategy="backward"
    )
    inside = (pl.col(STARTED_AT) - pl.col("start")).dt.total_seconds()
    length = (pl.col("end") - pl.col("start")).dt.total_seconds()
    before = pl.col("cum_before") + pl.min_horizontal(inside, length)
    return located.select(
        "__row", (before.fill_null(0) + pl.col(SECONDS)).cast(pl.Int64).alias("__target")
    )


def breaches(clocks: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Open clocks that are past due at ``now`` and not yet marked breached."""
    return clocks.filter(
        pl.col(STOPPED_AT).is_null()
        & pl.col(BREACHED_AT).is_null()
        & pl.col(DUE_AT).is_not_null()
        & (pl.col(DUE_AT) <= now)
    )


def attainment(clocks: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Per stage: clocks met, breached and still open at ``now``, the attainment rate
    (met / decided) and the median and 90th percentile response time in seconds.

    A clock is *met* when it was stopped by its due time; *breached* when it was stopped
    late, marked breached, or is open past due at ``now``.
    """
    stopped = pl.col(STOPPED_AT).is_not_null()
    met = stopped & (pl.col(STOPPED_AT) <= pl.col(DUE_AT))
    late = (
        pl.col(BREACHED_AT).is_not_null()
        | (stopped & (pl.col(STOPPED_AT) > pl.col(DUE_AT)))
        | (~stopped & (pl.col(DUE_AT) <= now))
    )
    response = (pl.col(STOPPED_AT) - pl.col(STARTED_AT)).dt.total_seconds()
    return (
        clocks.filter(pl.col(STARTED_AT) <= now)
        .group_by("stage")
        .agg(
            (met & ~pl.col(BREACHED_AT).is_not_null()).sum().alias("met"),
            late.sum().alias("breached"),
            (~stopped & ~late).sum().alias("open"),
            response.median().alias("median_response_s"),
            response.quantile(0.9, "nearest").alias("p90_response_s"),
        )
        .with_columns((pl.col("met") / (pl.col("met") + pl.col("breached"))).alias("attainment"))
        .sort("stage")
    )


def weekday_hours(spec: dict[str, list[tuple[time, time]]]) -> tuple[tuple[int, time, time], ...]:
    """``{"mon": [(09:00, 17:00)], ...}`` → ``((1, 09:00, 17:00), ...)``."""
    return tuple(
        (WEEKDAYS.index(day) + 1, start, end) for day, spans in spec.items() for start, end in spans
    )


__all__ = [
    "TeamCalendar",
    "attainment",
    "breaches",
    "due_times",
    "weekday_hours",
    "working_intervals",
]
