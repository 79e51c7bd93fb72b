"""Routing and SLA sweeps on a real store (SQLite and PostgreSQL): assignments, cursors,
breaches with reassignment and notification, idempotent sweeps, the outbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import polars as pl

from leadgate.model.compiler import compile_spec
from leadgate.model.loader import parse_spec
from leadgate.services.routing import import_roster, route_leads
from leadgate.services.sla import on_stage_change, stop_clocks, sweep
from leadgate.storage import routing as store
from leadgate.storage import save_model, transaction, update_lead_state, upsert_leads
from leadgate.storage.jobs import last_started, lock_job
from testkit import SMALL_MODEL

MODEL = compile_spec(
    parse_spec(
        SMALL_MODEL
        + """
routing:
  escalate_to: boss
  rules:
    - {id: all_leads, team: sdr}
slas:
  mql: {respond_within: 2h working, escalate: reassign}
  pql: {respond_within: 30m, escalate: notify}
"""
    )
)
ROSTER = """
teams:
  - id: sdr
    timezone: Europe/Berlin
    manager: boss
    reps:
      - {id: rep_a, name: A}
      - {id: rep_b, name: B}
      - {id: rep_c, name: C, out_of_office: [{from: 2026-03-01, to: 2026-03-31}]}
"""
MON_9 = datetime(2026, 3, 30, 7, tzinfo=UTC)  # Monday 09:00 CEST


def setup(engine, tmp_path, stages):
    path = tmp_path / "teams.yaml"
    path.write_text(ROSTER)
    import_roster(engine, path)
    ids = [str(i) for i in range(1, len(stages) + 1)]
    with transaction(engine) as conn:
        save_model(conn, MODEL.version, MODEL.name, "x", "{}", now=MON_9)
        upsert_leads(conn, pl.DataFrame({"lead_id": ids}), now=MON_9)
        update_lead_state(conn, pl.DataFrame({"lead_id": ids, "stage": stages}), now=MON_9)
        moves = pl.DataFrame({"lead_id": ids, "to_stage": stages})
        on_stage_change(conn, MODEL, moves, action="requalify", at=MON_9)
    return ids


def test_route_records_rule_version_cursor_and_due_times(engine, tmp_path):
    setup(engine, tmp_path, ["mql", "mql", "pql"])
    summary = route_leads(engine, MODEL, at=MON_9)
    assert (summary.considered, summary.assigned) == (3, 3)
    with engine.connect() as conn:
        rows = store.read_assignments(conn)
        cursors = store.read_cursors(conn)
        clocks = store.read_clocks(conn)
        outbox = store.read_outbox(conn)
    # rep_c is out of office all March
    assert rows.select("lead_id", "owner_id", "rule_id").rows() == [
        ("1", "rep_a", "all_leads"),
        ("2", "rep_b", "all_leads"),
        ("3", "rep_a", "all_leads"),
    ]
    assert set(rows["model_version"]) == {MODEL.version}
    assert cursors.rows() == [("sdr", "rep_a")]
    # 2 working hours in Berlin from 09:00 CEST; 30 calendar minutes
    assert clocks["due_at"].to_list() == [
        datetime(2026, 3, 30, 9, tzinfo=UTC),
        datetime(2026, 3, 30, 9, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 30, tzinfo=UTC),
    ]
    assert clocks["owner_id"].to_list() == ["rep_a", "rep_b", "rep_a"]
    assert outbox.height == 3
    # nothing left to route
    assert route_leads(engine, MODEL, at=MON_9).considered == 0


def test_sweep_reassigns_notifies_once_and_stops_on_action(engine, tmp_path):
    setup(engine, tmp_path, ["mql", "mql", "pql"])
    route_leads(engine, MODEL, at=MON_9)
    with transaction(engine) as conn:  # lead 2 is accepted in time
        stop_clocks(conn, ["2"], "accept", at=datetime(2026, 3, 30, 8, tzinfo=UTC))
    later = datetime(2026, 3, 30, 10, tzinfo=UTC)
    first = sweep(engine, MODEL, now=later)
    assert (first.breached, first.reassigned, first.notified) == (2, 1, 1)
    again = sweep(engine, MODEL, now=later)
    assert (again.breached, again.reassigned, again.notified) == (0, 0, 0)
    with engine.connect() as conn:
        clocks = store.read_clocks(conn)
        rows = store.read_assignments(conn)
        outbox = store.read_outbox(conn)
    assert clocks.select("lead_id", "owner_id", "outcome", "stopped_by").rows() == [
        ("1", "rep_a", "breached", "reassign"),
        ("2", "rep_b", "met", "accept"),
        ("3", "rep_a", "breached", None),
        ("1", "rep_b", "open", None),
    ]
    # the new owner gets a fresh clock: 2 working hours from 12:00 CEST
    assert clocks["due_at"][3] == datetime(2026, 3, 30, 12, tzinfo=UTC)
    assert rows.filter(pl.col("reason") == "sla_breach").select("lead_id", "owner_id").rows() == [
        ("1", "rep_b")
    ]
    breach = outbox.filter(pl.col("kind") == "sla.breached")
    assert breach.height == 2
    notified = [p for p in breach["payload"].to_list() if "boss" in p]
    assert len(notified) == 1
    assert first.attainment.filter(pl.col("stage") == "mql")["met"].to_list() == [1]


def test_a_second_sweep_waits_for_the_first_and_escalates_nothing_twice(engine, tmp_path):
    setup(engine, tmp_path, ["mql", "mql", "pql"])
    route_leads(engine, MODEL, at=MON_9)
    later = datetime(2026, 3, 30, 10, tzinfo=UTC)
    results: list[object] = []
    with engine.connect() as held:
        with held.begin():  # another sweep holds the job's lock (a cron run, say)
            lock_job(held, "sla_sweep", now=later)
            waiting = threading.Thread(
                target=lambda: results.append(sweep(engine, MODEL, now=later))
            )
            waiting.start()
            waiting.join(timeout=1.0)
            assert waiting.is_alive()  # it waits for the lock rather than sweeping alongside
            assert results == []
        waiting.join(timeout=60)
    assert not waiting.is_alive()
    (first,) = results
    assert (first.breached, first.reassigned, first.notified) == (3, 2, 1)  # type: ignore[attr-defined]
    # the reassigned leads' new clocks fall due by 15:00 CEST; three sweeps at once mark and
    # escalate each of those breaches exactly once
    afternoon = datetime(2026, 3, 30, 13, tzinfo=UTC)
    racing = [
        threading.Thread(target=sweep, args=(engine, MODEL), kwargs={"now": afternoon})
        for _ in range(3)
    ]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join(timeout=60)
    with engine.connect() as conn:
        outbox = store.read_outbox(conn)
        clocks = store.read_clocks(conn)
        started = last_started(conn, "sla_sweep"), last_started(conn, "never_ran")
    assert outbox.filter(pl.col("kind") == "sla.breached").height == 3 + 2
    assert clocks.filter(pl.col("outcome") == "breached").height == 3 + 2
    assert started == (afternoon, None)
