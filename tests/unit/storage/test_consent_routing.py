"""Consent-aware routing on a real store (SQLite and PostgreSQL): leads that may not be
contacted are held back (no assignment, no record), a later consent routes them, and
``route_within`` routes only the given leads inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from leadgate.exceptions import ModelError, NotFoundError, UsageError
from leadgate.model.compiler import compile_spec
from leadgate.model.loader import parse_spec
from leadgate.services.privacy import ConsentPolicy, consent_flags, record_consent
from leadgate.services.routing import import_roster, route_leads, route_within
from leadgate.storage import routing as store
from leadgate.storage import save_model, transaction, update_lead_state, upsert_leads
from testkit import SMALL_MODEL

MODEL = compile_spec(
    parse_spec(
        SMALL_MODEL
        + """
routing:
  rules:
    - {id: all_leads, team: sdr}
"""
    )
)
ROSTER = """
teams:
  - id: sdr
    reps:
      - {id: rep_a, name: A}
      - {id: rep_b, name: B}
"""
AT = datetime(2026, 3, 30, 7, tzinfo=UTC)


def setup(engine, tmp_path, count: int = 4) -> list[str]:
    path = tmp_path / "teams.yaml"
    path.write_text(ROSTER)
    import_roster(engine, path)
    ids = [str(i) for i in range(1, count + 1)]
    with transaction(engine) as conn:
        save_model(conn, MODEL.version, MODEL.name, "x", "{}", now=AT)
        upsert_leads(conn, pl.DataFrame({"lead_id": ids}), now=AT)
        update_lead_state(conn, pl.DataFrame({"lead_id": ids, "stage": ["mql"] * count}), now=AT)
    return ids


def consent(engine, lead_id, channel, status, basis=None, minutes=0) -> None:
    with transaction(engine) as conn:
        record_consent(
            conn,
            lead_id,
            channel,
            status,
            lawful_basis=basis,
            recorded_at=AT - timedelta(days=1) + timedelta(minutes=minutes),
        )


def test_leads_without_valid_consent_are_held_and_routed_once_it_is_given(engine, tmp_path):
    setup(engine, tmp_path)
    consent(engine, "1", "email", "granted", "consent")
    consent(engine, "2", "all", "withdrawn", "consent")
    consent(engine, "3", "email", "objected", "legitimate_interest")
    consent(engine, "3", "phone", "objected", "legitimate_interest")
    # lead 4 has no record: legitimate interest is presumed under the default policy
    summary = route_leads(engine, MODEL, at=AT)
    assert (summary.considered, summary.assigned, summary.held_for_consent) == (2, 2, 2)
    with engine.connect() as conn:
        rows = store.read_assignments(conn)
        flags = consent_flags(conn)
    assert sorted(rows["lead_id"]) == ["1", "4"]  # nothing is recorded for 2 and 3
    assert flags.rows() == [
        ("1", True, "consent"),
        ("2", False, "withdrawn"),
        ("3", False, "objected"),
        ("4", True, "no_record"),
    ]
    # lead 2 grants e-mail again after withdrawing everything: the newer record wins
    consent(engine, "2", "email", "granted", "consent", minutes=5)
    again = route_leads(engine, MODEL, at=AT + timedelta(hours=1))
    assert (again.assigned, again.held_for_consent) == (1, 1)
    with engine.connect() as conn:
        assert sorted(store.read_assignments(conn)["lead_id"]) == ["1", "2", "4"]


def test_a_strict_policy_holds_leads_without_any_record(engine, tmp_path):
    setup(engine, tmp_path, count=2)
    consent(engine, "1", "phone", "granted", "consent")
    strict = ConsentPolicy(require_record=True)
    summary = route_leads(engine, MODEL, at=AT, consent=strict)
    assert (summary.assigned, summary.held_for_consent) == (1, 1)
    with engine.connect() as conn:
        assert consent_flags(conn, ["2"], policy=strict).rows() == [("2", False, "no_consent")]


STRICT_MODEL = compile_spec(
    parse_spec(
        SMALL_MODEL
        + """
routing:
  consent: {require_record: true, outreach_channels: [email]}
  rules:
    - {id: all_leads, team: sdr}
"""
    )
)


def test_the_models_consent_policy_applies_to_routing_and_the_flag(engine, tmp_path):
    setup(engine, tmp_path, count=3)
    consent(engine, "1", "email", "granted", "consent")
    consent(engine, "2", "phone", "granted", "consent")  # not an outreach channel here
    # lead 3 has no record at all
    assert STRICT_MODEL.routing.consent_required
    assert STRICT_MODEL.routing.outreach_channels == ("email",)
    with transaction(engine) as conn:
        save_model(conn, STRICT_MODEL.version, STRICT_MODEL.name, "x", "{}", now=AT)
        done = route_within(conn, STRICT_MODEL, lead_ids=["1", "2", "3"], at=AT)
    assert done["lead_id"].to_list() == ["1"]
    summary = route_leads(engine, STRICT_MODEL, at=AT)
    assert (summary.assigned, summary.held_for_consent) == (0, 2)
    # the same leads under the default model: 2 (phone granted) and 3 (no record) go out
    assert route_leads(engine, MODEL, at=AT).assigned == 2


def test_route_within_routes_only_the_given_leads_in_the_callers_transaction(engine, tmp_path):
    setup(engine, tmp_path)
    consent(engine, "3", "email", "denied")
    with transaction(engine) as conn:
        done = route_within(conn, MODEL, lead_ids=["2", "3", "unknown"], at=AT)
        assert done.select("lead_id", "owner_id", "rule_id").rows() == [("2", "rep_a", "all_leads")]
        # already routed: a second call in the same transaction assigns nothing more
        assert route_within(conn, MODEL, lead_ids=["2"], at=AT).height == 0
        assert route_within(conn, MODEL, lead_ids=[], at=AT).height == 0
    with engine.connect() as conn:
        rows = store.read_assignments(conn)
        outbox = store.read_outbox(conn)
        cursors = store.read_cursors(conn)
    assert rows.select("lead_id", "owner_id").rows() == [("2", "rep_a")]
    assert outbox["kind"].to_list() == ["lead.assigned"]
    assert cursors.rows() == [("sdr", "rep_a")]
    # the round-robin continues where route_within left it
    summary = route_leads(engine, MODEL, at=AT)
    with engine.connect() as conn:
        rows = store.read_assignments(conn)
    assert summary.assigned == 2
    assert rows.select("lead_id", "owner_id").rows() == [
        ("2", "rep_a"),
        ("1", "rep_b"),
        ("4", "rep_a"),
    ]


def test_route_within_rolls_back_with_the_caller(engine, tmp_path):
    setup(engine, tmp_path)
    routed: list[int] = []

    def route_then_fail() -> None:
        with transaction(engine) as conn:
            routed.append(route_within(conn, MODEL, lead_ids=["1"], at=AT).height)
            raise RuntimeError("the event's transaction fails later")

    with pytest.raises(RuntimeError):
        route_then_fail()
    assert routed == [1]
    with engine.connect() as conn:
        assert store.read_assignments(conn).height == 0
        assert store.read_outbox(conn).height == 0


@pytest.mark.parametrize(
    ("lead", "channel", "status", "basis", "error"),
    [
        ("1", "email", "maybe", None, UsageError),
        ("1", "email", "granted", "because", UsageError),
        ("1", "E Mail!", "granted", None, UsageError),
        ("nobody", "email", "granted", None, NotFoundError),
    ],
)
def test_bad_consent_records_are_refused(engine, tmp_path, lead, channel, status, basis, error):
    setup(engine, tmp_path, count=1)
    with pytest.raises(error) as info, transaction(engine) as conn:
        record_consent(conn, lead, channel, status, lawful_basis=basis, recorded_at=AT)
    assert info.value.hint


CAPACITY_MODEL = compile_spec(
    parse_spec(
        SMALL_MODEL
        + """
routing:
  rules:
    - {id: all_leads, team: sdr, method: capacity}
"""
    )
)
CAPACITY_ROSTER = """
teams:
  - id: sdr
    timezone: Europe/Berlin
    capacity_period: day
    reps:
      - {id: rep_a, name: A, capacity: 1}
      - {id: rep_b, name: B, capacity: 2}
"""


def test_capacity_counts_what_earlier_runs_assigned_in_the_period(engine, tmp_path):
    path = tmp_path / "teams.yaml"
    path.write_text(CAPACITY_ROSTER)
    import_roster(engine, path)
    ids = [str(i) for i in range(1, 6)]
    with transaction(engine) as conn:
        save_model(conn, CAPACITY_MODEL.version, CAPACITY_MODEL.name, "x", "{}", now=AT)
        upsert_leads(conn, pl.DataFrame({"lead_id": ids}), now=AT)
        update_lead_state(conn, pl.DataFrame({"lead_id": ids, "stage": ["mql"] * 5}), now=AT)
    owners = []
    for lead in ("1", "2", "3", "4"):  # one at a time, as the service routes them
        with transaction(engine) as conn:
            done = route_within(conn, CAPACITY_MODEL, lead_ids=[lead], at=AT)
        owners.append((done["owner_id"][0], done["reason"][0]))
    # least utilised first: rep_b (0/2) before rep_a (0/1); then both are full
    assert owners[0] == ("rep_b", "rule")
    assert sorted(o for o, _ in owners[:3]) == ["rep_a", "rep_b", "rep_b"]
    assert owners[3] == (None, "capacity_full")
    # the next day (Berlin) the capacities are fresh
    with transaction(engine) as conn:
        done = route_within(conn, CAPACITY_MODEL, lead_ids=["5"], at=AT + timedelta(days=1))
    assert done["owner_id"].to_list() != [None]


def test_a_default_consent_block_keeps_the_models_version():
    spelled_out = compile_spec(
        parse_spec(
            SMALL_MODEL
            + """
routing:
  consent: {require_record: false, outreach_channels: [email, phone]}
  rules:
    - {id: all_leads, team: sdr}
"""
        )
    )
    assert spelled_out.version == MODEL.version
    assert STRICT_MODEL.version != MODEL.version
    with pytest.raises(ModelError, match="outreach_channels"):
        parse_spec(SMALL_MODEL + "\nrouting:\n  consent: {outreach_channels: []}\n")
