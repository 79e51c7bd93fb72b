"""The roster reads routing runs on every live group that routes a lead (both databases).

``read_owners_at`` folds the absence look-up into the owners query and ``assignment_load``
counts every team's period in one grouped query; each is checked against what the separate
reads (``read_owners`` and ``read_absences``) and a count per rep in Python give.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadgate.services.routing import read_roster
from leadgate.storage import routing as store
from leadgate.storage import subsets, upsert_leads
from leadgate.storage import tables as t
from leadgate.storage.frames import _fetch, _names

AT = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
TEAMS = [
    {"team_id": "ny", "name": "NY", "timezone": "America/New_York", "capacity_period": "week"},
    {"team_id": "be", "name": "BE", "timezone": "Europe/Berlin", "capacity_period": "day"},
    {"team_id": "mo", "name": "MO", "timezone": "Asia/Tokyo", "capacity_period": "month"},
]
OWNERS = [
    # (owner, team, capacity, active, out_of_office, weight, position)
    ("a1", "ny", 5, True, False, 1.0, 1),
    ("a2", "ny", None, True, False, None, 2),
    ("b1", "be", 3, True, False, 2.5, 1),
    ("b2", "be", 3, False, False, 1.0, None),
    ("c1", "mo", None, True, True, 1.0, 1),
    ("c2", "mo", 1, True, False, 1.0, 2),
    ("x1", None, None, True, False, 1.0, 1),  # not in a team
]
ABSENCES = [
    ("a2", AT - timedelta(days=1), AT + timedelta(days=1)),  # away now
    ("b1", AT - timedelta(days=3), AT),  # came back exactly now: present
    ("b1", AT, AT + timedelta(hours=1)),  # ... and away again from now: absent
    ("c2", AT + timedelta(seconds=1), AT + timedelta(days=2)),  # not yet away
    ("c2", AT - timedelta(days=9), AT - timedelta(days=8)),  # long back
]


def _store(engine: Engine) -> None:
    with engine.begin() as conn:
        store.save_roster(
            conn,
            TEAMS,
            [
                dict(
                    zip(
                        ("owner_id", "team_id", "capacity", "active", "out_of_office", "weight"),
                        row[:6],
                        strict=True,
                    ),
                    name=row[0],
                    position=row[6],
                )
                for row in OWNERS
            ],
            [],
        )
        conn.execute(
            sa.insert(t.owner_absences),
            [{"owner_id": o, "starts_at": s, "ends_at": e} for o, s, e in ABSENCES],
        )
        upsert_leads(conn, pl.DataFrame({"lead_id": [f"L{n}" for n in range(40)]}), now=AT)
        assignments = []
        for n in range(40):  # spread over 40 days before AT, some on the period edges
            at = AT - timedelta(hours=18 * n, microseconds=n % 2)
            owner = OWNERS[n % 6][0]
            assignments.append(
                {
                    "lead_id": f"L{n}",
                    "owner_id": owner,
                    "team_id": OWNERS[n % 6][1],
                    "rule_id": "r",
                    "reason": "rule",
                    "assigned_at": at,
                    "model_version": None,
                }
            )
        store.insert_assignments(conn, pl.DataFrame(assignments))


def test_owners_at_is_owners_plus_their_absence(engine: Engine) -> None:
    _store(engine)
    with engine.connect() as conn:
        owners = store.read_owners_at(conn, AT)
        separate = store.read_owners(conn)
        absent = set(store.read_absences(conn, AT).get_column("owner_id").to_list())
    assert owners.drop("away").equals(separate)
    away = dict(zip(owners["owner_id"], owners["away"], strict=True))
    assert {o for o, is_away in away.items() if is_away} == absent == {"a2", "b1"}
    assert owners.schema == pl.Schema({**store.OWNER_SCHEMA, "away": pl.Boolean()})


def test_one_query_load_counts_each_rep_since_its_period_start(engine: Engine) -> None:
    _store(engine)
    with engine.connect() as conn:
        roster, load = read_roster(conn, AT)
        assignments = _fetch(conn, t.assignments, _names(t.assignments))
        teams = {team["team_id"]: team for team in store.read_teams(conn)}
    from leadgate.services.routing import period_start

    expected = {}
    for owner, team, *_ in OWNERS:
        if team is None:
            continue
        since = period_start(AT, teams[team]["timezone"], teams[team]["capacity_period"])
        mine = assignments.filter((pl.col("owner_id") == owner) & (pl.col("assigned_at") >= since))
        if mine.height:
            expected[owner] = mine.height
    got = dict(load.iter_rows())
    assert got == expected
    assert len(set(expected.values())) > 1  # the periods really differ
    eligible = dict(roster.select("owner_id", "eligible").iter_rows())
    assert eligible == {
        "a1": True,
        "a2": False,  # away
        "b1": False,  # away again from this very moment
        "b2": False,  # inactive
        "c1": False,  # out of office
        "c2": True,  # absences in the future and the past
    }


@pytest.mark.parametrize("owners_since", [{}, {AT: []}])
def test_load_without_reps_reads_nothing(engine: Engine, owners_since: dict) -> None:
    with engine.connect() as conn:
        load = subsets.assignment_load(conn, owners_since)
    assert load.height == 0
    assert load.schema == pl.Schema({"owner_id": pl.String(), "assigned": pl.Int64()})


def test_plain_reads_give_what_streamed_reads_give(engine: Engine) -> None:
    """Owners (booleans, nulls) and assignments (timestamps) read both ways."""
    _store(engine)
    with engine.connect() as conn:
        for table in (t.owners, t.assignments, t.owner_absences, t.teams):
            names = _names(table)
            plain = _fetch(conn, table, names, order_by='"' + names[0] + '"', stream=False)
            streamed = _fetch(conn, table, names, order_by='"' + names[0] + '"')
            assert plain.schema == streamed.schema, table.name
            assert plain.equals(streamed), table.name
            assert plain.height > 0


def test_teams_read_on_the_cursor_match_sqlalchemy_rows(engine: Engine) -> None:
    _store(engine)
    calendars = {
        "team_id": "cal",
        "name": "Calendars",
        "timezone": "UTC",
        "working_hours": {"mon": ["09:00-12:00", "13:00-17:30"], "sat": []},
        "holidays": ["2026-12-25", "2027-01-01"],
        "capacity_period": "month",
        "manager_id": "boss",
    }
    with engine.begin() as conn:
        store.save_roster(conn, [calendars], [], [])
    with engine.connect() as conn:
        teams = store.read_teams(conn)
        rows = conn.execute(sa.select(t.teams).order_by(t.teams.c.team_id))
        expected = [dict(row._mapping) for row in rows]
    assert teams == expected
    assert [team["team_id"] for team in teams] == ["be", "cal", "mo", "ny"]
    assert teams[1] == calendars
    assert teams[0]["working_hours"] is None
