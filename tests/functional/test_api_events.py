"""Event ingest through the API: rescoring in the same transaction, idempotency, bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import polars as pl
import pytest
from apikit import START, Api, api, lead_body, open_api

from leadgate.services import ingest
from leadgate.services.event_columns import EventInput
from leadgate.services.ingest import ingest_events
from leadgate.services.lifecycle import load_stored_model, save_stored_model
from leadgate.storage import (
    read_events,
    read_leads,
    read_stage_history,
    transaction,
    upsert_accounts,
    upsert_leads,
)
from leadgate.storage import routing as routing_store
from testkit import EXAMPLE_MODEL

__all__ = ["api"]


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail", "field"} <= body.keys()
    return body


def test_an_event_rescores_moves_routes_and_notifies_in_one_go(api: Api) -> None:
    assert api.call("PUT", "/v1/leads/L1", who="ingest", json=lead_body("ada")).status_code == 200
    response = api.call("POST", "/v1/events", who="ingest", json=api.event("e1", "L1"))
    assert response.status_code == 201, response.text
    ack = response.json()
    assert ack["duplicate"] is False
    assert ack["received_at"].startswith(api.clock.now.strftime("%Y-%m-%dT%H:%M"))
    lead = ack["lead"]
    assert lead["stage"] == "mql"
    assert lead["engagement_score"] == 40.0
    assert lead["owner_id"] in {"sdr_gale", "sdr_harper", "sdr_indy"}

    with api.engine.connect() as conn:
        stored = read_leads(conn, ["L1"]).row(0, named=True)
        history = read_stage_history(conn, "L1")
        assignments = routing_store.read_assignments(conn)
        clocks = routing_store.read_clocks(conn, open_only=True, lead_ids=["L1"])
        outbox = routing_store.read_outbox(conn)
    assert stored["stage"] == "mql"
    assert stored["owner_id"] == lead["owner_id"]
    assert stored["scored_at"] == api.clock.now
    assert history.filter(pl.col("to_stage") == "mql").height == 1
    assert assignments.filter(pl.col("lead_id") == "L1").height == 1
    assert clocks.height == 1
    assert clocks.item(0, "stage") == "mql"
    assert clocks.item(0, "due_at") > api.clock.now
    assert clocks.item(0, "owner_id") == lead["owner_id"]
    kinds = outbox.get_column("kind").to_list()
    assert "lead.stage_changed" in kinds
    assert "lead.assigned" in kinds
    changed = outbox.filter(pl.col("kind") == "lead.stage_changed")
    payload = json.loads(changed.filter(changed["payload"].str.contains('"mql"'))["payload"][0])
    assert payload["lead_id"] == "L1"
    assert payload["to_stage"] == "mql"
    assert "email" not in payload


def test_a_replay_answers_the_first_receipt_and_stores_nothing(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    first = api.call("POST", "/v1/events", json=api.event("e1", "L1"))
    assert first.status_code == 201
    api.clock.advance(minutes=3)
    again = api.call("POST", "/v1/events", json=api.event("e1", "L1"))
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["received_at"] == first.json()["received_at"]
    with api.engine.connect() as conn:
        assert read_events(conn, ["L1"]).height == 1


def test_a_batch_counts_duplicates_inside_and_across_requests(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    api.call("PUT", "/v1/leads/L2", json=lead_body("bob", title="Marketing Intern"))
    api.call("POST", "/v1/events", json=api.event("e1", "L1"))
    views = [
        api.event(f"v{i}", "L2", event_type="page_view", properties={"url": "/pricing"})
        for i in range(3)
    ]
    batch = [api.event("e1", "L1"), *views, views[0]]
    response = api.call("POST", "/v1/events:batch", json={"events": batch})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["stored"], body["duplicates"]) == (5, 3, 2)
    assert [r["duplicate"] for r in body["receipts"]] == [True, False, False, False, True]
    assert {lead["lead_id"] for lead in body["leads"]} == {"L2"}
    with api.engine.connect() as conn:
        events = read_events(conn)
    assert sorted(events.get_column("event_id").to_list()) == ["e1", "v0", "v1", "v2"]


def test_a_batch_naming_an_unknown_lead_is_refused_whole(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    batch = [api.event("a", "L1"), api.event("b", "ghost")]
    body = _problem(
        api.call("POST", "/v1/events:batch", json={"events": batch}), 422, "unknown_lead"
    )
    assert body["field"] == "events[1].lead_id"
    single = _problem(
        api.call("POST", "/v1/events", json=api.event("c", "ghost")), 422, "unknown_lead"
    )
    assert single["field"] == "lead_id"
    with api.engine.connect() as conn:
        assert read_events(conn).height == 0


def test_batches_over_the_limit_are_refused(db_url: str) -> None:
    for small in open_api(db_url, max_batch_events=3):
        small.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
        batch = [small.event(f"e{i}", "L1") for i in range(4)]
        body = _problem(
            small.call("POST", "/v1/events:batch", json={"events": batch}),
            413,
            "batch_too_large",
        )
        assert body["field"] == "events"


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"occurred_at": "2035-01-01T00:00:00Z"}, 422, "future_timestamp", "occurred_at"),
        ({"occurred_at": "1999-12-31T23:00:00Z"}, 422, "ancient_timestamp", "occurred_at"),
        ({"occurred_at": "2026-09-30T12:00:00"}, 422, "invalid_request", "occurred_at"),
        ({"occurred_at": 1767225600}, 422, "invalid_request", "occurred_at"),
        ({"event_type": "telepathy"}, 422, "unknown_event_type", "event_type"),
        ({"lead_id": 42}, 422, "invalid_request", "lead_id"),
        ({"colour": "red"}, 422, "invalid_request", "colour"),
        ({"properties": {"lead_id": "L2"}}, 422, "reserved_property", "properties.lead_id"),
        ({"properties": {"n": [1, 2]}}, 422, "invalid_request", None),
        ({"properties": {"ok": "yes\u0000"}}, 422, "invalid_request", None),
    ],
)
def test_bad_events_get_a_problem_naming_the_field(
    api: Api, change: dict, status: int, code: str, field: str | None
) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    body = _problem(
        api.call("POST", "/v1/events", json=api.event("e1", "L1") | change), status, code
    )
    if field is not None:
        assert body["field"] == field


def test_malformed_json_and_oversized_bodies(api: Api) -> None:
    bad = api.client.post(
        "/v1/events",
        content=b'{"event_id": ',
        headers=api.headers("ingest") | {"content-type": "application/json"},
    )
    _problem(bad, 400, "malformed_json")
    huge = b'{"events": [' + b" " * 3_000_000 + b"]}"
    too_big = api.client.post(
        "/v1/events:batch",
        content=huge,
        headers=api.headers("ingest") | {"content-type": "application/json"},
    )
    _problem(too_big, 413, "body_too_large")


def test_one_bad_request_cannot_fail_the_rest_of_its_group(engine, monkeypatch) -> None:
    """The group's shared transaction fails; every other request is retried and stored."""
    moment = START
    stored = load_stored_model(EXAMPLE_MODEL)
    with transaction(engine) as conn:
        save_stored_model(conn, stored, moment)
        upsert_accounts(conn, pl.DataFrame({"account_id": ["a"]}), now=moment)
        upsert_leads(
            conn,
            pl.DataFrame({"lead_id": ["L1", "L2", "L3"], "account_id": ["a"] * 3}),
            now=moment,
        )
    real = ingest.rescore_leads

    def poisoned(conn, model, lead_ids, **kwargs):
        if "L2" in lead_ids:
            raise RuntimeError("boom")
        return real(conn, model, lead_ids, **kwargs)

    monkeypatch.setattr(ingest, "rescore_leads", poisoned)
    at = moment - timedelta(minutes=1)

    def one(event_id: str, lead_id: str) -> list[EventInput]:
        return [EventInput(event_id, lead_id, "page_view", at, {"url": "/pricing"})]

    results = ingest_events(
        engine, stored.model, [one("a", "L1"), one("b", "L2"), one("c", "L3")], now=moment
    )
    assert [r.error is None for r in results] == [True, False, True]
    assert isinstance(results[1].error, RuntimeError)
    with engine.connect() as conn:
        ids = sorted(read_events(conn).get_column("event_id").to_list())
    assert ids == ["a", "c"]


def test_a_group_with_no_routable_lead_does_not_route(api: Api, monkeypatch) -> None:
    """Routing (roster, load, cursors) runs only when a rescored lead is routable."""
    from leadgate.services import routing

    real = routing.route_within
    calls: list[list[str]] = []

    def counted(conn, model, *, lead_ids, at, **kwargs):
        calls.append(list(lead_ids))
        return real(conn, model, lead_ids=lead_ids, at=at, **kwargs)

    monkeypatch.setattr(routing, "route_within", counted)
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    api.call("PUT", "/v1/leads/L2", json=lead_body("bob", title="Marketing Intern"))
    calls.clear()  # (the upserts route through their own path)
    view = api.event("v1", "L2", event_type="page_view", properties={"url": "/blog"})
    quiet = api.call("POST", "/v1/events", json=view)
    assert quiet.status_code == 201, quiet.text
    assert quiet.json()["lead"]["stage"] not in {"mql", "pql"}
    assert calls == []
    moved = api.call("POST", "/v1/events", json=api.event("e1", "L1"))
    assert moved.status_code == 201, moved.text
    assert moved.json()["lead"]["stage"] == "mql"
    assert moved.json()["lead"]["owner_id"] is not None
    assert calls == [["L1"]]


def test_steady_field_types_score_a_few_leads_as_a_full_read_does(engine) -> None:
    """An all-empty custom field takes the type it was read with before (one engine plan
    for every group), and the narrow event read scores exactly as the full one."""
    from leadgate.engine.score import score
    from leadgate.services.lifecycle import FieldTypes, read_store_for

    stored = load_stored_model(EXAMPLE_MODEL)
    model = stored.model
    with transaction(engine) as conn:
        save_stored_model(conn, stored, START)
        upsert_accounts(conn, pl.DataFrame({"account_id": ["a"]}), now=START)
        upsert_leads(
            conn,
            pl.DataFrame(
                {
                    "lead_id": ["L1", "L2"],
                    "account_id": ["a", "a"],
                    "title": ["VP Sales", "Analyst"],
                    "budget": [True, None],
                    "seats": [40, None],
                }
            ),
            now=START,
        )
    at = START - timedelta(hours=1)
    requests = [
        [EventInput("e1", "L1", "page_view", at, {"url": "/pricing"})],
        [EventInput("e2", "L2", "form_submit", at, {"form": "demo"})],
    ]
    assert all(r.error is None for r in ingest_events(engine, model, requests, now=START))
    types = FieldTypes()
    with engine.connect() as conn:
        first = read_store_for(conn, model, ["L1"], field_types=types, scoring_only=True)
        alone = read_store_for(conn, model, ["L2"], field_types=types, scoring_only=True)
        full = read_store_for(conn, model, ["L2"])
    assert first[0].schema["budget"] == pl.Boolean
    assert full[0].schema["budget"] == pl.Null  # what a read of L2 alone infers
    assert alone[0].schema["budget"] == pl.Boolean
    assert alone[0].schema["seats"] == first[0].schema["seats"]
    assert "event_id" not in alone[2].columns
    assert alone[2].height == full[2].height == 1
    narrow = score(*alone, model, as_of=START, explain_points=False).leads
    wide = score(*full, model, as_of=START, explain_points=False).leads
    assert narrow.select(wide.columns).equals(wide)


def test_a_batch_answer_is_the_public_model_field_for_field(api: Api) -> None:
    """The batch route serialises the service's receipts and lead states directly: their
    fields must stay those of ``ReceiptPublic`` and ``LeadStatePublic``."""
    from dataclasses import fields

    from leadgate.api.schemas import BatchAckPublic, LeadStatePublic, ReceiptPublic
    from leadgate.services.event_columns import LeadState, Receipt

    assert [f.name for f in fields(Receipt)] == list(ReceiptPublic.model_fields)
    assert [f.name for f in fields(LeadState)] == list(LeadStatePublic.model_fields)
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    events = [api.event("b1", "L1"), api.event("b2", "L1"), api.event("b1", "L1")]
    response = api.call("POST", "/v1/events:batch", who="ingest", json={"events": events})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    ack = BatchAckPublic.model_validate_json(response.content)
    assert (ack.received, ack.stored, ack.duplicates) == (3, 2, 1)
    assert [r.duplicate for r in ack.receipts] == [False, False, True]
    assert ack.receipts[0].received_at == api.clock.now
    assert [lead.lead_id for lead in ack.leads] == ["L1"]
    assert response.json()["receipts"][0]["received_at"].endswith("Z")


def test_a_batch_answer_serialises_as_the_public_model_does(api: Api) -> None:
    """Receipts of each kind of duplicate (stored, repeated in the batch, repeated with
    another lead) and the lead states: the answer is exactly what ``BatchAckPublic``
    serialises, byte for byte."""
    from leadgate.api.schemas import BatchAckPublic

    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    api.call("PUT", "/v1/leads/L2", json=lead_body("bob", title="Marketing Intern"))
    first = api.call("POST", "/v1/events", json=api.event("old", "L2"))
    assert first.status_code == 201, first.text
    api.clock.advance(minutes=5)
    events = [
        api.event("a", "L1"),
        api.event("old", "L1"),  # stored, first sent for L2 five minutes ago
        api.event("b", "L2", properties={"form": "demo_request", "n": None}),
        api.event("a", "L2"),  # repeated within the batch, first sent for L1
    ]
    response = api.call("POST", "/v1/events:batch", who="ingest", json={"events": events})
    assert response.status_code == 200, response.text
    ack = BatchAckPublic.model_validate_json(response.content)
    assert ack.model_dump_json().encode() == response.content
    receipts = [(r.event_id, r.lead_id, r.received_at, r.duplicate) for r in ack.receipts]
    earlier = api.clock.now - timedelta(minutes=5)
    assert receipts == [
        ("a", "L1", api.clock.now, False),
        ("old", "L2", earlier, True),
        ("b", "L2", api.clock.now, False),
        ("a", "L1", api.clock.now, True),
    ]
    assert (ack.received, ack.stored, ack.duplicates) == (4, 2, 2)
    assert [lead.lead_id for lead in ack.leads] == ["L1", "L2"]


TRICKY_BODIES = [
    b'\xef\xbb\xbf{"events": [EVENT]}',  # a byte-order mark: json.loads takes it
    b'{"events": [EVENT], "events": [EVENT]}',
    b'{"events": [{"event_id": "x", "event_id": "y", REST}]}',
    b'{"events": [{"event_id": "x", REST, "properties": {"n": NaN}}]}',
    b'{"events": [{"event_id": "x", REST, "properties": {"n": 1e400}}]}',
    b'{"events": [{"event_id": "x", REST, "properties": {"n": "\\ud800"}}]}',
    b'{"events": [{"event_id": "x", REST, "properties": {"n": 123456789012345678901234567}}]}',
    b'{"events": [{"event_id": "x", REST, "properties": {"n": 9007199254740993, "m": 0.1}}]}',
    b'{"events": [EVENT]} trailing',
    b'{"events": [EVENT]}\n ',
    b'{"events": []}',
    b"[EVENT]",
    b'{"events": [{"event_id": "x", "lead_id": "L1", "event_type": "page_view",'
    b' "occurred_at": "1727704000"}]}',
]


@pytest.mark.parametrize("body", TRICKY_BODIES)
def test_a_batch_body_is_read_as_fastapi_reads_json(body: bytes) -> None:
    """The batch route validates the body straight from its bytes, and hands anything
    that is not a valid batch to FastAPI as decoded JSON: what is accepted, and as what,
    is what decoding the JSON and then validating it gives."""
    import asyncio

    from pydantic import ValidationError

    from leadgate.api.routes.events import _BatchRequest
    from leadgate.api.schemas import EventBatchCreate

    rest = b'"lead_id": "L1", "event_type": "page_view", "occurred_at": "2026-09-30T14:00:00Z"'
    body = body.replace(b"EVENT", b'{"event_id": "e1", REST}').replace(b"REST", rest)
    try:
        expected: object = EventBatchCreate.model_validate(json.loads(body))
    except (ValueError, ValidationError) as error:
        expected = type(error)

    async def read() -> object:
        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": body, "more_body": False}

        request = _BatchRequest({"type": "http", "method": "POST", "headers": []}, receive)
        try:
            decoded = await request.json()
            return EventBatchCreate.model_validate(decoded)
        except (ValueError, ValidationError) as error:
            return type(error)

    assert asyncio.run(read()) == expected


def test_a_batch_with_a_byte_order_mark_is_taken_as_before(api: Api) -> None:
    api.call("PUT", "/v1/leads/L1", json=lead_body("ada"))
    body = b"\xef\xbb\xbf" + json.dumps({"events": [api.event("m1", "L1")]}).encode()
    headers = api.headers("ingest") | {"content-type": "application/json"}
    response = api.client.post("/v1/events:batch", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1


def test_the_process_writer_answers_each_request_of_a_group(db_url: str) -> None:
    """The writer in its own process: requests go as columns and come back compact; a
    duplicate gets its first receipt, an unknown lead its located problem, and the
    process keeps the collector's thresholds set for it."""
    import asyncio
    import gc

    from leadgate.api import writer as writer_module
    from leadgate.api.writer import IngestWriter
    from leadgate.exceptions import InputDataError
    from leadgate.services.event_columns import EventColumns
    from leadgate.storage import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    stored = load_stored_model(EXAMPLE_MODEL)
    with transaction(engine) as conn:
        save_stored_model(conn, stored, START)
        upsert_accounts(conn, pl.DataFrame({"account_id": ["a"]}), now=START)
        upsert_leads(
            conn, pl.DataFrame({"lead_id": ["L1", "L2"], "account_id": ["a"] * 2}), now=START
        )
    at = START - timedelta(minutes=1)

    def request(*pairs: tuple[str, str]) -> EventColumns:
        return EventColumns.of(
            [EventInput(e, lead, "page_view", at, {"url": "/x"}) for e, lead in pairs]
        )

    async def run() -> list[object]:
        writer = IngestWriter(
            engine,
            stored.model,
            lambda: START,
            worker="process",
            database_url=db_url,
            model_path=str(EXAMPLE_MODEL),
        )
        await writer.start()
        try:
            first = await writer.submit(request(("e1", "L1")))
            group = await asyncio.gather(
                writer.submit(request(("e2", "L2"), ("e1", "L2"), ("e2", "L1"))),
                writer.submit(request(("e3", "L1"), ("e4", "ghost"))),
            )
            loop = asyncio.get_running_loop()
            thresholds = await loop.run_in_executor(writer._executor, gc.get_threshold)
        finally:
            await writer.stop()
        return [first, *group, thresholds]

    try:
        first, mixed, unknown, thresholds = asyncio.run(run())
    finally:
        engine.dispose()
    assert first.error is None
    assert mixed.error is None
    assert mixed.received_at == START
    assert dict(mixed.duplicates) == {1: ("L1", START), 2: ("L2", START)}
    assert [row[0] for row in mixed.leads] == ["L2"]
    assert isinstance(unknown.error, InputDataError)
    assert [p.location.field for p in unknown.error.problems] == ["events[1].lead_id"]
    assert tuple(thresholds) == writer_module.GC_THRESHOLDS
