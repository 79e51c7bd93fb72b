"""Erasure on a real store (SQLite and PostgreSQL): every table is filled with recognisable
personal strings for one person, the person is erased, and a scan of every column of every
table (by reflection) finds none of them, while the funnel counts stay the same and another
person's data is untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa

from leadgate.analytics.funnel import FunnelQuery
from leadgate.exceptions import NotFoundError
from leadgate.services.analytics import AnalyticsSource, load_funnel_data
from leadgate.services.privacy import consent_flags, erase_lead
from leadgate.storage import audit
from leadgate.storage import tables as t

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)
ZELDA = "lead-z"
BOB = "lead-b"
PERSONAL = (
    "Zelda",
    "Quixote",
    "zelda.quixote@mail.example",
    "+49 170 5550199",
    "Chief Dragon Officer",
    "Atlantis",
    "203.0.113.77",
    "linkedin.com/in/zq",
)
"""Strings only Zelda's data holds (matched case-insensitively anywhere in any column)."""
BOB_STRINGS = ("Bob", "Control", "bob@corp.example", "Springfield")

LEAD_TABLES = {
    "leads",
    "events",
    "discovery_answers",
    "consents",
    "stage_history",
    "feedback",
    "outcomes",
    "assignments",
    "sla_clocks",
}
"""Tables with a lead_id column: erasure must know each one (a new one fails the guard)."""


def _lead(lead_id: str, first: str, last: str, email: str, phone: str, place: str) -> dict:
    return {
        "lead_id": lead_id,
        "email": email,
        "account_id": "acc-1",
        "first_name": first,
        "last_name": last,
        "title": "Chief Dragon Officer" if lead_id == ZELDA else "Manager",
        "phone": phone,
        "country": place,
        "source": "webinar",
        "created_at": T0,
        "updated_at": T0,
        "attributes": {"linkedin": f"linkedin.com/in/{'zq' if lead_id == ZELDA else 'bc'}"},
        "owner_id": "rep-1",
        "stage": "won" if lead_id == ZELDA else "sql",
        "stage_changed_at": T0 + timedelta(days=9),
        "became_mql_at": T0 + timedelta(days=1),
        "became_sal_at": T0 + timedelta(days=2),
        "became_sql_at": T0 + timedelta(days=3),
        "became_opportunity_at": T0 + timedelta(days=4) if lead_id == ZELDA else None,
        "became_won_at": T0 + timedelta(days=9) if lead_id == ZELDA else None,
        "recycle_reason": "Zelda Quixote said call back in May" if lead_id == ZELDA else None,
        "fit_score": 55.0,
        "engagement_score": 30.0,
        "grade": "A",
        "segment": "ent",
        "persona": "buyer",
        "model_version": "v1",
        "scored_at": T0,
    }


def fill_every_table(conn: sa.Connection) -> None:
    """One or more rows in every table; Zelda's carry the personal strings."""
    conn.execute(
        sa.insert(t.models),
        [{"version": "v1", "name": "m", "content_hash": "h", "artifact": "{}", "created_at": T0}],
    )
    conn.execute(sa.insert(t.teams), [{"team_id": "sdr", "name": "SDR", "manager_id": "boss"}])
    conn.execute(
        sa.insert(t.owners),
        [{"owner_id": "rep-1", "name": "Rep One", "email": "rep1@corp.example", "team_id": "sdr"}],
    )
    conn.execute(
        sa.insert(t.owner_absences),
        [{"owner_id": "rep-1", "starts_at": T0, "ends_at": T0 + timedelta(days=1)}],
    )
    conn.execute(
        sa.insert(t.accounts),
        [{"account_id": "acc-1", "name": "Corp", "created_at": T0, "updated_at": T0}],
    )
    conn.execute(
        sa.insert(t.leads),
        [
            _lead(
                ZELDA,
                "Zelda",
                "Quixote",
                "zelda.quixote@mail.example",
                "+49 170 5550199",
                "Atlantis",
            ),
            _lead(BOB, "Bob", "Control", "bob@corp.example", "+1 555 0100", "Springfield"),
        ],
    )
    for lead in (ZELDA, BOB):
        who = "Zelda" if lead == ZELDA else "Bob"
        conn.execute(
            sa.insert(t.events),
            [
                {
                    "event_id": f"{lead}-e{i}",
                    "lead_id": lead,
                    "event_type": "page_view",
                    "occurred_at": T0 + timedelta(hours=i),
                    "received_at": T0 + timedelta(hours=i),
                    "properties": {"url": f"/pricing?name={who}", "ip": "203.0.113.77"}
                    if lead == ZELDA
                    else {"url": "/pricing?name=Bob"},
                }
                for i in range(3)
            ],
        )
        conn.execute(
            sa.insert(t.discovery_answers),
            [
                {
                    "lead_id": lead,
                    "field": "pain",
                    "value": {"text": f"{who} hates spreadsheets"},
                    "answered_at": T0,
                    "actor": "rep-1",
                }
            ],
        )
        conn.execute(
            sa.insert(t.consents),
            [
                {
                    "lead_id": lead,
                    "channel": "email",
                    "status": "granted",
                    "lawful_basis": "consent",
                    "recorded_at": T0,
                    "source": f"form filled by {who} from 203.0.113.77"
                    if lead == ZELDA
                    else "form filled by Bob",
                }
            ],
        )
        conn.execute(
            sa.insert(t.stage_history),
            [
                {
                    "lead_id": lead,
                    "from_stage": "new",
                    "to_stage": "mql",
                    "action": "auto",
                    "actor": "system",
                    "reason": "fit_and_engagement",
                    "occurred_at": T0 + timedelta(days=1),
                    "model_version": "v1",
                },
                {
                    "lead_id": lead,
                    "from_stage": "mql",
                    "to_stage": "sal",
                    "action": "accept",
                    "actor": "rep-1",
                    "reason": f"{who} wants a demo",
                    "occurred_at": T0 + timedelta(days=2),
                    "model_version": "v1",
                },
            ],
        )
        conn.execute(
            sa.insert(t.feedback),
            [
                {
                    "lead_id": lead,
                    "actor": "rep-1",
                    "verdict": "good",
                    "reason": f"met {who} at the fair",
                    "note": f"{who} Quixote +49 170 5550199" if lead == ZELDA else "Bob Control",
                    "created_at": T0,
                }
            ],
        )
        conn.execute(
            sa.insert(t.outcomes),
            [
                {
                    "opportunity_id": f"opp-{lead}",
                    "lead_id": lead,
                    "account_id": "acc-1",
                    "opportunity_created_at": T0 + timedelta(days=4),
                    "amount": 1000.0,
                    "won": lead == ZELDA,
                    "closed_at": T0 + timedelta(days=9),
                    "lost_reason": None if lead == ZELDA else "Bob Control chose a rival",
                }
            ],
        )
        conn.execute(
            sa.insert(t.assignments),
            [
                {
                    "lead_id": lead,
                    "owner_id": "rep-1",
                    "team_id": "sdr",
                    "rule_id": "all",
                    "method": "round_robin",
                    "reason": "rule",
                    "model_version": "v1",
                    "assigned_at": T0,
                },
                {
                    "lead_id": lead,
                    "owner_id": "rep-1",
                    "team_id": "sdr",
                    "rule_id": None,
                    "method": None,
                    "reason": f"{who}'s manager asked for rep-1",
                    "model_version": "v1",
                    "assigned_at": T0,
                },
            ],
        )
        conn.execute(
            sa.insert(t.sla_clocks),
            [
                {
                    "lead_id": lead,
                    "stage": "mql",
                    "team_id": "sdr",
                    "owner_id": "rep-1",
                    "started_at": T0,
                    "due_at": T0 + timedelta(hours=4),
                    "outcome": "met",
                    "budget_seconds": 14400,
                    "working": True,
                    "stop_on": "accept",
                    "escalation": "reassign",
                    "stopped_by": "accept",
                    "model_version": "v1",
                }
            ],
        )
    conn.execute(
        sa.insert(t.routing_cursors),
        [{"team_id": "sdr", "last_owner_id": "rep-1", "updated_at": T0}],
    )
    for row in (
        {
            "message_id": "m-z-pending",
            "kind": "lead.stage_changed",
            "payload": {"lead_id": ZELDA, "email": "zelda.quixote@mail.example"},
            "created_at": T0,
        },
        {
            "message_id": "m-z-done",
            "kind": "lead.assigned",
            "payload": {"lead_id": ZELDA, "name": "Zelda Quixote"},
            "created_at": T0,
            "delivered_at": T0,
            "dispatched_at": T0,
        },
        {
            "message_id": "m-b-pending",
            "kind": "lead.assigned",
            "payload": {"lead_id": BOB, "name": "Bob Control"},
            "created_at": T0,
            "dispatched_at": T0,
        },
    ):  # one statement per row: an executemany takes its columns from the first row
        conn.execute(sa.insert(t.outbox).values(row))
    conn.execute(
        sa.insert(t.webhook_endpoints),
        [{"endpoint_id": "wh1", "url": "http://127.0.0.1:9/hook", "secret": "s", "created_at": T0}],
    )
    for row in (
        {"message_id": "m-z-pending", "endpoint_id": "wh1", "next_attempt_at": T0},
        {
            "message_id": "m-z-done",
            "endpoint_id": "wh1",
            "next_attempt_at": T0,
            "state": "delivered",
            "delivered_at": T0,
            "last_status": 200,
        },
        {"message_id": "m-b-pending", "endpoint_id": "wh1", "next_attempt_at": T0},
    ):
        conn.execute(sa.insert(t.webhook_deliveries).values(row))
    conn.execute(
        sa.insert(t.api_keys),
        [
            {
                "key_id": "k1",
                "name": "ops",
                "role": "admin",
                "secret_hash": "0" * 64,
                "created_at": T0,
            }
        ],
    )
    audit.append_audit(conn, at=T0, actor="admin", action="key.created", subject_id="k1")
    conn.execute(sa.insert(t.job_runs), [{"name": "sla_sweep", "started_at": T0}])


def scan(engine: sa.Engine, needles: tuple[str, ...]) -> dict[str, set[str]]:
    """``{needle: {"table.column", ...}}`` for every needle found in any column of any table."""
    reflected = sa.MetaData()
    reflected.reflect(engine)
    found: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for table in reflected.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for column, value in row._mapping.items():
                    text = str(value).lower()
                    for needle in needles:
                        if needle.lower() in text:
                            found.setdefault(needle, set()).add(f"{table.name}.{column}")
    return found


def funnel_counts(url: str) -> list[tuple]:
    data = load_funnel_data(AnalyticsSource(database=url))
    result = FunnelQuery().run(data)
    return sorted(result.stages.rows()) + sorted(result.pairs.rows())


def test_every_table_with_a_lead_id_is_known_to_erasure() -> None:
    with_lead = {name for name, table in t.metadata.tables.items() if "lead_id" in table.c}
    assert with_lead == LEAD_TABLES, "extend storage/privacy.erase_person and this test"


def test_erasure_leaves_no_personal_string_anywhere_and_keeps_the_funnel(
    engine: sa.Engine, db_url: str
) -> None:
    with engine.begin() as conn:
        fill_every_table(conn)
    # every table holds data, and the scan sees Zelda everywhere we put her
    with engine.connect() as conn:
        empty = [
            name
            for name, table in t.metadata.tables.items()
            if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0
        ]
    assert empty == []
    before = scan(engine, PERSONAL)
    assert set(before) == set(PERSONAL)
    assert {loc.split(".")[0] for locs in before.values() for loc in locs} >= {
        "leads",
        "events",
        "discovery_answers",
        "consents",
        "stage_history",
        "feedback",
        "assignments",
        "outbox",
    }
    funnel_before = funnel_counts(db_url)

    with engine.begin() as conn:
        summary = erase_lead(conn, ZELDA, actor="dpo", now=NOW)

    assert scan(engine, PERSONAL) == {}
    assert set(scan(engine, BOB_STRINGS)) == set(BOB_STRINGS)  # nobody else was touched
    assert funnel_counts(db_url) == funnel_before
    assert (summary.events_deleted, summary.consents_deleted) == (3, 1)
    assert (summary.discovery_answers_deleted, summary.outbox_deleted) == (1, 1)
    assert summary.outbox_redacted == 1
    with engine.connect() as conn:
        lead = conn.execute(sa.select(t.leads).where(t.leads.c.lead_id == ZELDA)).one()
        assert lead.erased_at == NOW
        assert (lead.stage, lead.grade, lead.segment, lead.owner_id) == ("won", "A", "ent", "rep-1")
        assert lead.became_won_at is not None
        assert lead.fit_score == 55.0
        # machine reason codes stay, free text goes
        reasons = (
            conn.execute(
                sa.select(t.stage_history.c.reason)
                .where(t.stage_history.c.lead_id == ZELDA)
                .order_by(t.stage_history.c.id)
            )
            .scalars()
            .all()
        )
        assert reasons == ["fit_and_engagement", None]
        kinds = (
            conn.execute(sa.select(t.assignments.c.reason).where(t.assignments.c.lead_id == ZELDA))
            .scalars()
            .all()
        )
        assert sorted(kinds) == ["redacted", "rule"]
        entries = audit.read_audit(conn, subject_id=ZELDA)
        outbox = conn.execute(sa.select(t.outbox.c.kind, t.outbox.c.payload)).all()
    assert [(e.action, e.actor) for e in entries] == [("lead.erased", "dpo")]
    assert entries[0].details is not None
    assert entries[0].details["events_deleted"] == 3
    assert ("lead.erased", {"lead_id": ZELDA, "erased_at": NOW.isoformat()}) in [
        tuple(r) for r in outbox
    ]
    with engine.connect() as conn:
        flags = consent_flags(conn, [ZELDA, BOB])
    assert flags.rows() == [(BOB, True, "consent"), (ZELDA, False, "erased")]


def test_erasing_twice_is_safe_and_unknown_ids_are_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        fill_every_table(conn)
    with engine.begin() as conn:
        erase_lead(conn, ZELDA, actor="dpo", now=NOW)
    with engine.begin() as conn:
        again = erase_lead(conn, ZELDA, actor="dpo", now=NOW + timedelta(hours=1))
    assert again.already_erased
    assert again.events_deleted == 0
    with pytest.raises(NotFoundError) as info, engine.begin() as conn:
        erase_lead(conn, "nobody", actor="dpo", now=NOW)
    assert info.value.code == "not_found"
    assert info.value.hint


def test_a_failed_erasure_changes_nothing(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        fill_every_table(conn)
    before = scan(engine, PERSONAL)

    def erase_then_crash() -> None:
        with engine.begin() as conn:
            erase_lead(conn, ZELDA, actor="dpo", now=NOW)
            raise RuntimeError("crash after the erasure, before the commit")

    with pytest.raises(RuntimeError):
        erase_then_crash()
    assert scan(engine, PERSONAL) == before


def test_consent_flags_of_leads(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        fill_every_table(conn)
        flags = consent_flags(conn)
    assert flags.schema == pl.Schema(
        {"lead_id": pl.String, "consent_ok": pl.Boolean, "consent_reason": pl.String}
    )
    assert flags.rows() == [(BOB, True, "consent"), (ZELDA, True, "consent")]
