"""Leads through the API: upserts, the full lead view, sales actions, consent and erasure."""

from __future__ import annotations

import polars as pl
from apikit import ACCOUNT, Api, api, lead_body

from leadgate.storage import read_events, read_leads, read_stage_history
from leadgate.storage import routing as routing_store

__all__ = ["api"]


def _mql(api: Api, lead_id: str = "L1", name: str = "ada") -> str:
    """Create a lead and make it an MQL with a demo request; returns its owner."""
    assert api.call("PUT", f"/v1/leads/{lead_id}", json=lead_body(name)).status_code == 200
    ack = api.call("POST", "/v1/events", json=api.event(f"demo-{lead_id}", lead_id)).json()
    assert ack["lead"]["stage"] == "mql", ack
    return str(ack["lead"]["owner_id"])


def test_upsert_creates_links_and_scores_a_lead(api: Api) -> None:
    response = api.call(
        "PUT", "/v1/leads/L1", who="ingest", json=lead_body("ada", email=" Ada@Acme-Analytics.COM ")
    )
    assert response.status_code == 200, response.text
    state = response.json()["leads"][0]
    assert state["lead_id"] == "L1"
    assert state["stage"] == "new"
    assert state["fit_score"] > 40
    with api.engine.connect() as conn:
        lead = read_leads(conn, ["L1"]).row(0, named=True)
    assert lead["email"] == "ada@acme-analytics.com"
    assert lead["account_id"] == "acme"
    assert lead["grade"] == state["grade"]
    # an update changes what it names and keeps the rest
    again = api.call("PUT", "/v1/leads/L1", json={"title": "Marketing Intern"})
    assert again.status_code == 200
    assert again.json()["leads"][0]["fit_score"] < state["fit_score"]
    with api.engine.connect() as conn:
        kept = read_leads(conn, ["L1"]).row(0, named=True)
    assert kept["email"] == "ada@acme-analytics.com"
    assert kept["account_id"] == "acme"  # a partial update keeps what it does not name


def test_an_account_update_rescores_its_live_leads(api: Api) -> None:
    for lead_id, name in (("L1", "ada"), ("L2", "bob")):
        assert api.call("PUT", f"/v1/leads/{lead_id}", json=lead_body(name)).status_code == 200
    fit = api.call("GET", "/v1/leads/L1").json()["scores"]["fit_score"]
    assert api.call("DELETE", "/v1/leads/L2").status_code == 200  # erased: never rescored

    worse = ACCOUNT | {"industry": "Government", "employees": 20}
    response = api.call("PUT", "/v1/accounts/acme", who="ingest", json=worse)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == 0
    assert [lead["lead_id"] for lead in body["leads"]] == ["L1"]
    assert body["leads"][0]["fit_score"] < fit
    view = api.call("GET", "/v1/leads/L1").json()
    assert view["scores"]["fit_score"] == body["leads"][0]["fit_score"]
    with api.engine.connect() as conn:
        stored = read_leads(conn, ["L1"]).row(0, named=True)
    assert stored["fit_score"] == body["leads"][0]["fit_score"]
    # an account nobody works at is written and rescores nothing
    lonely = api.call("PUT", "/v1/accounts/lonely", json=ACCOUNT | {"domain": "lonely.example"})
    assert lonely.status_code == 200
    assert lonely.json() == {"written": 1, "created": 1, "leads": []}


def test_upsert_refuses_bad_and_conflicting_people(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    taken = api.call("PUT", "/v1/leads/L2", json=lead_body("ada"))
    assert taken.status_code == 409
    assert taken.json()["code"] == "email_taken"
    bad = api.call("PUT", "/v1/leads/L3", json=lead_body("x", email="not an address"))
    assert bad.status_code == 422
    assert bad.json()["field"] == "email"
    reserved = api.call("PUT", "/v1/leads/L4", json={"attributes": {"stage": "won"}})
    assert reserved.status_code == 422
    assert reserved.json()["code"] == "reserved_attribute"
    typed = api.call("PUT", "/v1/leads/L5", json={"employees": "500"})
    assert typed.status_code == 422
    assert typed.json()["field"] == "employees"
    batch = api.call(
        "POST",
        "/v1/leads",
        json={"leads": [{"lead_id": "B1", **lead_body("bea")}, {"lead_id": "B2"}]},
    )
    assert batch.status_code == 200, batch.text
    assert [s["lead_id"] for s in batch.json()["leads"]] == ["B1", "B2"]


def test_the_lead_view_explains_and_shows_the_timeline_and_clock(api: Api) -> None:
    owner = _mql(api)
    response = api.call("GET", "/v1/leads/L1")
    assert response.status_code == 200, response.text
    lead = response.json()
    assert lead["stage"] == "mql"
    assert lead["owner_id"] == owner
    assert lead["consent"] == {"ok": True, "reason": "no_record"}
    assert lead["contact"]["email"] == "ada@acme-analytics.com"
    why = {(line["kind"], line["rule_id"]): line for line in lead["why"]}
    assert why[("engagement", "demo_request")]["points"] == 40.0
    assert why[("engagement", "demo_request")]["events"] == 1
    fit = sum(line["points"] for line in lead["why"] if line["kind"] == "fit")
    assert round(fit, 2) == lead["scores"]["fit_score"]
    kinds = [item["kind"] for item in lead["timeline"]]
    assert kinds == ["event", "stage", "assignment"]  # new → mql, then assigned
    assert lead["timeline"][0]["details"]["properties"] == {"form": "demo_request"}
    assert len(lead["sla"]) == 1
    assert lead["sla"][0]["stage"] == "mql"
    assert lead["sla"][0]["due_at"] > lead["stage_changed_at"]
    missing = api.call("GET", "/v1/leads/nobody")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_sales_actions_move_the_lead_with_a_reason(api: Api) -> None:
    owner = _mql(api)
    api.clock.advance(minutes=30)
    accepted = api.call("POST", "/v1/leads/L1/actions/accept", who=owner, json={})
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["from_stage"], accepted.json()["to_stage"]) == ("mql", "sal")
    with api.engine.connect() as conn:
        clock = routing_store.read_clocks(conn, lead_ids=["L1"]).row(0, named=True)
        history = read_stage_history(conn, "L1")
        outbox = routing_store.read_outbox(conn)
    assert clock["outcome"] == "met"
    assert clock["stopped_by"] == "accept"
    assert history.filter(pl.col("to_stage") == "sal").item(0, "actor") == owner
    assert outbox.filter(pl.col("kind") == "lead.stage_changed").height == 2  # →mql, →sal

    again = api.call("POST", "/v1/leads/L1/actions/accept", who=owner)
    assert again.status_code == 409
    assert again.json()["code"] == "transition_not_allowed"
    no_reason = api.call("POST", "/v1/leads/L1/actions/recycle", who=owner, json={})
    assert no_reason.status_code == 422
    assert no_reason.json()["code"] == "reason_required"
    unknown = api.call("POST", "/v1/leads/L1/actions/teleport", who=owner)
    assert unknown.status_code == 422
    recycled = api.call(
        "POST", "/v1/leads/L1/actions/recycle", who=owner, json={"reason": "no_budget"}
    )
    assert recycled.status_code == 200
    assert recycled.json()["reason"] == "no_budget"
    assert recycled.json()["recheck_at"] is not None


def test_consent_and_erasure(api: Api) -> None:
    _mql(api)
    consent = api.call(
        "POST",
        "/v1/leads/L1/consents",
        who="ingest",
        json={"channel": "email", "status": "withdrawn", "lawful_basis": "consent"},
    )
    assert consent.status_code == 201, consent.text
    assert api.call("GET", "/v1/leads/L1").json()["consent"] == {
        "ok": False,
        "reason": "withdrawn",
    }
    bad = api.call("POST", "/v1/leads/L1/consents", json={"channel": "email", "status": "maybe"})
    assert bad.status_code == 422
    assert api.call("DELETE", "/v1/leads/L1", who="revops").status_code == 403
    erased = api.call("DELETE", "/v1/leads/L1")
    assert erased.status_code == 200, erased.text
    assert erased.json()["events_deleted"] == 1
    assert api.call("GET", "/v1/leads/L1").status_code == 404
    rewrite = api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    assert rewrite.status_code == 409
    assert rewrite.json()["code"] == "lead_erased"
    late = api.call("POST", "/v1/events", json=api.event("late", "L1"))
    assert late.status_code == 422
    assert late.json()["code"] == "unknown_lead"
    with api.engine.connect() as conn:
        lead = read_leads(conn, ["L1"]).row(0, named=True)
        assert read_events(conn, ["L1"]).height == 0
    assert lead["email"] is None
    assert lead["erased_at"] is not None
