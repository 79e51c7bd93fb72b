"""Real-time ingest routes leads and leaves their SLA clocks with the right team and due time.

A lead's clock starts (in the group that moves it) with the team whose calendar counts; when
routing then gives the lead to a rep, the clock takes that rep and team, and its due time is
the one that team's calendar gives — worked out again only when the team changed or the
clock is older than the group. Both cases are checked against a fresh computation, on both
databases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from leadgate.model.compiled import QualificationModel
from leadgate.services.event_columns import EventInput
from leadgate.services.ingest import ingest_events
from leadgate.services.lifecycle import FieldTypes, load_stored_model, requalify
from leadgate.services.privacy import record_consent
from leadgate.services.routing import import_roster
from leadgate.services.sla import due_for
from leadgate.storage import (
    insert_events,
    read_leads,
    transaction,
    update_lead_state,
    upsert_accounts,
    upsert_leads,
)
from leadgate.storage import routing as store
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL

PREPARED = datetime(2026, 9, 28, 14, tzinfo=UTC)  # a Monday, in working hours
NOW = PREPARED + timedelta(days=1, hours=1, microseconds=123_456)
ROSTER = Path(EXAMPLE_MODEL).parent / "teams.yaml"


def _push(lead_id: str, n: int) -> list[EventInput]:
    """Events that push a lead up the marketing ladder (demo request, trial, pricing)."""
    return [
        EventInput(f"{lead_id}-demo-{n}", lead_id, "form_submit", NOW, {"form": "demo_request"}),
        EventInput(f"{lead_id}-trial-{n}", lead_id, "trial_started", NOW, {}),
        EventInput(f"{lead_id}-price-{n}", lead_id, "page_view", NOW, {"url": "/pricing"}),
    ]


def _prepared(engine, accounts: int) -> tuple[QualificationModel, pl.DataFrame]:
    """A synthetic store with the example roster, requalified at PREPARED: (model, leads)."""
    data = generate_dataset(
        accounts=accounts, leads_per_account=5, events_per_lead=10, as_of=PREPARED
    )
    with transaction(engine) as conn:
        upsert_accounts(conn, data.accounts, now=PREPARED)
        upsert_leads(conn, data.leads, now=PREPARED)
        insert_events(conn, data.events, now=PREPARED)
    import_roster(engine, ROSTER)
    requalify(engine, Path(EXAMPLE_MODEL), as_of=PREPARED, now=PREPARED)
    model = load_stored_model(Path(EXAMPLE_MODEL)).model
    with engine.connect() as conn:
        stored = read_leads(conn)
    return model, stored


def test_routed_leads_clocks_take_the_assigned_team_and_its_due_time(engine):
    model, stored = _prepared(engine, accounts=40)
    unowned = stored.filter(pl.col("owner_id").is_null())
    # Qualified before (clocks started at PREPARED) and climbing now (clocks start at NOW).
    waiting = unowned.filter(pl.col("stage").is_in(["mql", "pql"]))["lead_id"].to_list()[:4]
    climbing = unowned.filter(pl.col("stage").is_in(["new", "iql"]))["lead_id"].to_list()[:40]
    assert waiting
    assert climbing
    requests = [
        [EventInput(f"{lead}-view", lead, "page_view", NOW, {"url": "/blog"})] for lead in waiting
    ]
    requests += [_push(lead, 0) for lead in climbing]

    results = ingest_events(engine, model, requests, now=NOW, field_types=FieldTypes())

    assert all(result.error is None for result in results)
    with engine.connect() as conn:
        assignments = store.read_assignments(conn).filter(pl.col("owner_id").is_not_null())
        routed = assignments["lead_id"].to_list()
        clocks = store.read_clocks(conn, open_only=True, lead_ids=routed)
        fresh = clocks.with_columns(due_for(conn, clocks).alias("__fresh"))
        owners = read_leads(conn, routed).select("lead_id", pl.col("owner_id").alias("__owner"))
    started = fresh["started_at"].dt.convert_time_zone("UTC")
    assert (started == PREPARED).any()  # clocks of leads that waited for a rep
    assert (started == NOW).any()  # clocks started by this very group
    checked = fresh.join(
        assignments.select("lead_id", pl.col("team_id").alias("__team")), on="lead_id"
    ).join(owners, on="lead_id")
    assert checked.height == clocks.height > 0
    assert (checked["team_id"] == checked["__team"]).all()
    assert (checked["owner_id"] == checked["__owner"]).all()
    assert checked["due_at"].is_not_null().all()
    assert (checked["due_at"] == checked["__fresh"]).all()


def test_a_held_back_lead_keeps_the_calendar_of_the_team_its_routing_rule_picks(engine):
    """A lead not routed (consent withdrawn) gets its clock on its routing rule's team: the
    rule reads stored lead fields (``country``), not only what the engine's frame carries."""
    model, stored = _prepared(engine, accounts=60)
    climbing = stored.filter(
        pl.col("owner_id").is_null()
        & pl.col("stage").is_in(["new", "iql"])
        & (pl.col("segment") != "enterprise")
    )
    emea = climbing.filter(pl.col("country").is_in(["GB", "DE", "NL"]))["lead_id"].to_list()[:6]
    other = climbing.filter(pl.col("country").is_in(["US", "CA"]))["lead_id"].to_list()[:6]
    assert emea
    assert other
    with transaction(engine) as conn:
        for lead in emea + other:
            record_consent(conn, lead, "all", "withdrawn", recorded_at=PREPARED)

    results = ingest_events(
        engine, model, [_push(lead, 1) for lead in emea + other], now=NOW, field_types=FieldTypes()
    )

    assert all(result.error is None for result in results)
    with engine.connect() as conn:
        clocks = store.read_clocks(conn, open_only=True, lead_ids=emea + other)
        owners = read_leads(conn, emea + other)["owner_id"]
    assert owners.is_null().all()  # held back: nobody was assigned
    teams = dict(zip(clocks["lead_id"], clocks["team_id"], strict=True))
    entered = [lead for lead in emea if lead in teams]
    assert entered  # some EMEA leads reached a stage with an SLA
    assert {teams[lead] for lead in entered} == {"emea_sdr"}
    assert {teams[lead] for lead in other if lead in teams} <= {"na_sdr"}


def test_an_owned_lead_keeps_the_calendar_of_its_owners_team(engine):
    """A lead that already has a rep when it enters a stage with an SLA is not routed; its
    clock runs on the rep's team calendar — not the team its routing rule picks — while an
    unowned lead of the same group gets its rule's team."""
    model, stored = _prepared(engine, accounts=60)
    climbing = stored.filter(
        pl.col("owner_id").is_null()
        & pl.col("stage").is_in(["new", "iql"])
        & (pl.col("segment") != "enterprise")
        & pl.col("country").is_in(["US", "CA"])
    )["lead_id"].to_list()
    owned, unowned = climbing[:6], climbing[6:12]
    assert owned
    assert unowned
    with transaction(engine) as conn:  # an enterprise AE already owns them
        frame = pl.DataFrame({"lead_id": owned, "owner_id": ["ae_avery"] * len(owned)})
        update_lead_state(conn, frame, now=PREPARED)

    results = ingest_events(
        engine,
        model,
        [_push(lead, 2) for lead in owned + unowned],
        now=NOW,
        field_types=FieldTypes(),
    )

    assert all(result.error is None for result in results)
    with engine.connect() as conn:
        clocks = store.read_clocks(conn, open_only=True, lead_ids=owned + unowned)
        fresh = clocks.with_columns(due_for(conn, clocks).alias("__fresh"))
        owners = dict(zip(*read_leads(conn, owned).select("lead_id", "owner_id"), strict=True))
    assert set(owners.values()) == {"ae_avery"}  # not reassigned by routing
    teams = dict(zip(fresh["lead_id"], fresh["team_id"], strict=True))
    entered = [lead for lead in owned if lead in teams]
    assert entered  # some owned leads reached a stage with an SLA
    assert {teams[lead] for lead in entered} == {"enterprise_ae"}
    assert {teams[lead] for lead in unowned if lead in teams} <= {"na_sdr"}
    assert fresh.filter(pl.col("lead_id").is_in(entered))["owner_id"].to_list() == [
        "ae_avery"
    ] * len(entered)
    assert (fresh["due_at"] == fresh["__fresh"]).all()
