"""The queue, the funnel, outcomes, health, the admin sweep and the periodic jobs."""

from __future__ import annotations

import asyncio
import threading
import time

import polars as pl
from apikit import Api, api, lead_body

from leadgate.api.background import PeriodicJob
from leadgate.storage import read_outcomes
from leadgate.storage import routing as routing_store

__all__ = ["api"]


def test_the_queue_ranks_by_stage_then_score_with_due_times(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    first = api.call("POST", "/v1/events", json=api.event("d1", "L1")).json()["lead"]
    owner = first["owner_id"]
    api.call("POST", "/v1/leads/L1/actions/accept", who=owner)  # sal ranks after mql
    api.clock.advance(minutes=5)
    # same account, so the same owner: a weaker and a stronger MQL
    api.call("PUT", "/v1/leads/L2", json=lead_body("bob", title="Head of Sales Operations"))
    api.call("POST", "/v1/events", json=api.event("d2", "L2"))
    api.call("PUT", "/v1/leads/L3", json=lead_body("cy"))
    api.call("POST", "/v1/events", json=api.event("d3", "L3"))
    api.call(
        "POST",
        "/v1/events",
        json=api.event("p3", "L3", event_type="page_view") | {"properties": {"url": "/pricing"}},
    )
    queue = api.call("GET", "/v1/queue", who=owner).json()
    items = queue["items"]
    assert queue["owner_id"] == owner
    assert [item["stage"] for item in items] == ["mql", "mql", "sal"]
    totals = [item["fit_score"] + item["engagement_score"] for item in items[:2]]
    assert totals == sorted(totals, reverse=True)
    assert [item["rank"] for item in items] == [1, 2, 3]
    assert all(item["due_at"] is not None for item in items[:2])
    assert items[2]["lead_id"] == "L1"


def test_funnel_outcomes_and_health(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    owner = api.call("POST", "/v1/events", json=api.event("d1", "L1")).json()["lead"]["owner_id"]
    outcome = api.call(
        "POST",
        "/v1/outcomes",
        who=owner,
        json={
            "opportunity_id": "opp-1",
            "lead_id": "L1",
            "amount": 12000.0,
            "won": True,
            "closed_at": api.clock.now.isoformat(),
        },
    )
    assert outcome.status_code == 201, outcome.text
    assert outcome.json()["created"] is True
    with api.engine.connect() as conn:
        assert read_outcomes(conn).get_column("amount").to_list() == [12000.0]
    unknown = api.call("POST", "/v1/outcomes", json={"opportunity_id": "o", "lead_id": "zz"})
    assert unknown.status_code == 404

    funnel = api.call("GET", "/v1/funnel", who="revops", params={"by": "segment"})
    assert funnel.status_code == 200, funnel.text
    stages = {(s["group"]["segment"], s["stage"]): s["leads"] for s in funnel.json()["stages"]}
    assert stages[("mid_market", "mql")] == 1
    bad = api.call("GET", "/v1/funnel", who="revops", params={"by": "no_such_column"})
    assert bad.status_code == 422

    health = api.client.get("/v1/health").json()
    assert health["status"] == "ok"
    assert health["model_version"].startswith("signalstack@")


def test_an_admin_sweep_with_an_explicit_now_breaches_and_reassigns(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    owner = api.call("POST", "/v1/events", json=api.event("d1", "L1")).json()["lead"]["owner_id"]
    early = api.call("POST", "/v1/admin/sla:sweep", json={"now": api.clock.now.isoformat()})
    assert early.json()["breached"] == 0
    later = "2026-10-05T20:00:00Z"  # days past a four-working-hour SLA
    swept = api.call("POST", "/v1/admin/sla:sweep", json={"now": later})
    assert swept.status_code == 200, swept.text
    assert (swept.json()["breached"], swept.json()["reassigned"]) == (1, 1)
    with api.engine.connect() as conn:
        clocks = routing_store.read_clocks(conn, lead_ids=["L1"])
        outbox = routing_store.read_outbox(conn)
    assert clocks.get_column("outcome").to_list() == ["breached", "open"]
    assert clocks.item(1, "owner_id") != owner
    assert outbox.filter(pl.col("kind") == "sla.breached").height == 1
    assert api.call("GET", "/v1/leads/L1").json()["owner_id"] == clocks.item(1, "owner_id")


def test_a_periodic_job_never_runs_concurrently_with_itself() -> None:
    running = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.03)
        with guard:
            running -= 1

    async def scenario() -> int:
        job = PeriodicJob("test", 0.005, work)
        job.start()
        await asyncio.gather(*(job.run_now(work) for _ in range(5)))
        await asyncio.sleep(0.05)
        await job.stop()
        return job.runs

    runs = asyncio.run(scenario())
    assert most == 1
    assert runs >= 1


def test_serve_refuses_to_start_without_a_model_or_a_migrated_store(
    tmp_path, monkeypatch, capsys
) -> None:
    from leadgate.cli.app import main
    from testkit import EXAMPLE_MODEL

    for name in ("LEADGATE_MODEL_PATH", "LEADGATE_DATABASE_URL"):
        monkeypatch.setenv(name, "")  # recorded, so what serve sets is undone after the test
        monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["serve", "--database", url]) == 4
    assert "needs a model" in capsys.readouterr().err
    assert main(["serve", "--model", str(EXAMPLE_MODEL), "--database", url]) == 5
    assert "leadgate db upgrade" in capsys.readouterr().err
