"""Requalify a store whose custom fields and event properties the model reads are absent."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from leadgate.cli.app import main
from leadgate.storage import make_engine, read_leads
from testkit import EXAMPLE_MODEL


def test_requalify_with_no_discovery_answers_or_event_properties(db_url, tmp_path, capsys):
    leads = tmp_path / "leads.csv"
    pl.DataFrame(
        {
            "lead_id": ["a1", "a2"],
            "email": ["ana@acme.io", "bo@gmail.com"],
            "title": ["VP of Marketing", "Student"],
        }
    ).write_csv(leads)
    events = tmp_path / "events.csv"
    pl.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "lead_id": ["a1", "a1"],
            "event_type": ["email_open", "email_open"],
            "occurred_at": ["2026-09-01T10:00:00Z", "2026-09-02T10:00:00Z"],
        }
    ).write_csv(events)
    db = ["--database", db_url]
    assert main(["db", "upgrade", *db]) == 0
    assert main(["import", "leads", str(leads), *db]) == 0
    assert main(["import", "events", str(events), *db]) == 0
    as_of = datetime(2026, 9, 30, tzinfo=UTC)
    code = main(["requalify", "-m", str(EXAMPLE_MODEL), "--as-of", as_of.isoformat(), *db])
    _, err = capsys.readouterr()
    assert code == 0, err
    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = read_leads(conn).sort("lead_id")
    engine.dispose()
    assert stored["engagement_score"].to_list()[0] > 0
    assert stored["stage"].to_list()[1] == "disqualified"
    assert stored["stage"].to_list()[0] != "disqualified"
    assert stored["disqualified_reason"].to_list() == [None, "student"]
