"""SLA due times in team calendars (weekends, holidays, DST, time zones), breaches, attainment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from leadgate.engine.sla import TeamCalendar, attainment, breaches, due_times, working_intervals

BERLIN = TeamCalendar("de", "Europe/Berlin", holidays=(date(2026, 4, 3),))  # Good Friday
NEW_YORK = TeamCalendar("ny", "America/New_York")
CALENDARS = {"de": BERLIN, "ny": NEW_YORK}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def clock_frame(rows: list[tuple[datetime, int, bool, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "started_at": pl.Datetime("us", "UTC"),
            "seconds": pl.Int64,
            "working": pl.Boolean,
            "team_id": pl.String,
        },
        orient="row",
    )


def due(rows: list[tuple[datetime, int, bool, str | None]]) -> list[datetime]:
    return due_times(clock_frame(rows), CALENDARS).to_list()


def test_four_working_hours_over_a_weekend_and_the_spring_dst_change():
    # Fri 27 Mar 15:00 CET (14:00 UTC): 2 h on Friday; Berlin moves to CEST on Sunday;
    # 2 h on Monday → 11:00 CEST = 09:00 UTC.
    assert due([(utc(2026, 3, 27, 14), 4 * 3600, True, "de")]) == [utc(2026, 3, 30, 9)]


def test_a_holiday_is_skipped():
    # Thu 2 Apr 16:00 CEST: 1 h on Thursday, Good Friday off, 3 h Monday → 12:00 CEST.
    assert due([(utc(2026, 4, 2, 14), 4 * 3600, True, "de")]) == [utc(2026, 4, 6, 10)]


def test_new_york_across_its_own_dst_change():
    # Sat 7 Mar 15:00 EST; US clocks move on Sun 8 Mar; Mon 9 Mar 10:00 EDT = 14:00 UTC.
    assert due([(utc(2026, 3, 7, 20), 3600, True, "ny")]) == [utc(2026, 3, 9, 14)]


def test_started_outside_hours_and_spanning_two_days():
    # Sat 28 Mar 03:00 UTC, 16 h: all of Monday and Tuesday → Tue 17:00 CEST = 15:00 UTC.
    assert due([(utc(2026, 3, 28, 3), 16 * 3600, True, "de")]) == [utc(2026, 3, 31, 15)]


def test_exactly_at_the_end_of_a_working_day():
    # Mon 30 Mar 13:00 CEST + 4 h = 17:00 CEST, not the next morning.
    assert due([(utc(2026, 3, 30, 11), 4 * 3600, True, "de")]) == [utc(2026, 3, 30, 15)]


def test_calendar_time_and_teams_without_a_calendar():
    rows = [
        (utc(2026, 3, 27, 14), 86400, False, "de"),
        (utc(2026, 3, 27, 14), 3600, True, None),
        (utc(2026, 3, 27, 14), 3600, True, "de"),
    ]
    assert due(rows) == [utc(2026, 3, 28, 14), utc(2026, 3, 27, 15), utc(2026, 3, 27, 15)]


def test_lunch_breaks_split_the_day():
    team = TeamCalendar("x", "UTC", hours=((1, time(9), time(12)), (1, time(13), time(17))))
    frame = pl.DataFrame(
        {
            "started_at": [utc(2026, 3, 30, 11)],
            "seconds": [7200],
            "working": [True],
            "team_id": ["x"],
        },
        schema_overrides={"started_at": pl.Datetime("us", "UTC")},
    )
    assert due_times(frame, {"x": team}).to_list() == [utc(2026, 3, 30, 14)]
    intervals = working_intervals(team, date(2026, 3, 30), date(2026, 4, 6))
    assert intervals["cum_end"].to_list() == [3 * 3600, 7 * 3600, 10 * 3600, 14 * 3600]


def clocks() -> pl.DataFrame:
    ts = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        {
            "stage": ["mql"] * 4,
            "started_at": [utc(2026, 3, 30, 9)] * 4,
            "due_at": [utc(2026, 3, 30, 13)] * 4,
            "stopped_at": [utc(2026, 3, 30, 10), utc(2026, 3, 30, 15), None, None],
            "breached_at": [None, None, None, None],
        },
        schema={
            "stage": pl.String,
            "started_at": ts,
            "due_at": ts,
            "stopped_at": ts,
            "breached_at": ts,
        },
    )


def test_breaches_are_open_clocks_past_due():
    assert breaches(clocks(), utc(2026, 3, 30, 12)).height == 0
    assert breaches(clocks(), utc(2026, 3, 30, 13)).height == 2


def test_attainment_counts_met_breached_and_open():
    row = attainment(clocks(), utc(2026, 3, 30, 12)).row(0, named=True)
    assert (row["met"], row["breached"], row["open"]) == (1, 1, 2)
    assert row["attainment"] == 0.5
    assert row["median_response_s"] == (3600 + 6 * 3600) / 2


def test_laid_out_intervals_are_handed_out_as_copies():
    first = working_intervals(BERLIN, date(2026, 3, 30), date(2026, 4, 10))
    expected = first.clone()
    first.insert_column(0, pl.Series("scribble", [0] * first.height))
    again = working_intervals(BERLIN, date(2026, 3, 30), date(2026, 4, 10))
    assert again.equals(expected)
    # 11:00 in Berlin (summer time) + 4 working hours
    assert due([(utc(2026, 3, 30, 9), 4 * 3600, True, "de")]) == [utc(2026, 3, 30, 13)]


def test_clocks_of_several_teams_and_kinds_keep_their_order():
    rows = [
        (utc(2026, 4, 2, 15), 4 * 3600, True, "de"),  # Thursday 17:00 Berlin: over Good Friday
        (utc(2026, 4, 2, 15), 4 * 3600, False, "de"),  # calendar time
        (utc(2026, 4, 2, 15), 4 * 3600, True, "ny"),
        (utc(2026, 4, 2, 15), 4 * 3600, True, None),  # no team: around the clock
        (utc(2026, 4, 2, 15), 30 * 24 * 3600, True, "ny"),  # a long budget lays out more weeks
    ]
    got = due(rows)
    assert got[0] == utc(2026, 4, 6, 11)  # Easter Monday is not a holiday of this calendar
    assert got[1] == got[3] == utc(2026, 4, 2, 19)
    assert got[2] == utc(2026, 4, 2, 19)  # 11:00 in New York + 4 working hours
    assert got[4] == due([rows[4]])[0]
    assert due(rows[::-1]) == got[::-1]


def test_a_span_too_short_for_many_holidays_is_laid_out_again():
    # One working hour a week (Mondays 09-10 UTC) and ten Mondays off in a row: the span
    # laid out first (two weeks of work, a day per holiday) ends before the second working
    # Monday, so the due time is found on a longer layout — for that team only, with the
    # other clocks' due times and the row order kept.
    mondays = tuple(date(2026, 6, 1) + timedelta(weeks=k) for k in range(10))
    sparse = TeamCalendar("sparse", "UTC", ((1, time(9), time(10)),), mondays)
    frame = clock_frame(
        [
            (utc(2026, 3, 30, 11), 4 * 3600, True, "de"),
            (utc(2026, 5, 30, 0), 2 * 3600, True, "sparse"),
            (utc(2026, 5, 30, 0), 3600, False, "sparse"),
        ]
    )
    got = due_times(frame, {**CALENDARS, "sparse": sparse}).to_list()
    # holidays: 1, 8, 15, 22, 29 June and 6, 13, 20, 27 July, 3 August; Mondays 10 and
    # 17 August are the first two working ones.
    assert got == [utc(2026, 3, 30, 15), utc(2026, 8, 17, 10), utc(2026, 5, 30, 1)]
