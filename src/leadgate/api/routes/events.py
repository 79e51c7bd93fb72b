"""``POST /v1/events`` and ``POST /v1/events:batch``: store events, rescore their leads.

Both are idempotent by ``event_id``: a replay is answered with the original receipt and
``duplicate: true`` (status 200 instead of 201 for a single event), and stores nothing.
An event naming a lead that is not stored (or was erased) is refused with 422
``unknown_lead``; in a batch, the whole batch is refused and nothing is stored.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic_core import to_json

from leadgate.api.deps import IngestDep, StateDep
from leadgate.api.errors import PROBLEM_RESPONSES, ApiProblemError
from leadgate.api.schemas import (
    BatchAckPublic,
    EventAckPublic,
    EventBatchCreate,
    EventCreate,
    LeadStatePublic,
    ReceiptPublic,
)
from leadgate.api.writer import WriterStoppedError
from leadgate.services.ingest import EventInput, IngestResult, check_events

router = APIRouter(prefix="/v1", tags=["events"], responses=PROBLEM_RESPONSES)


def _input(event: EventCreate) -> EventInput:
    return EventInput(
        event.event_id, event.lead_id, event.event_type, event.occurred_at, event.properties
    )


async def _submit(state: StateDep, events: list[EventInput]) -> IngestResult:
    try:
        result = await state.writer.submit(events)
    except WriterStoppedError:
        raise ApiProblemError(
            503, "shutting_down", "The service is stopping.", hint="Retry shortly."
        ) from None
    if result.error is not None:
        raise result.error
    return result


@router.post(
    "/events",
    status_code=201,
    responses={200: {"model": EventAckPublic, "description": "A replay: the first receipt"}},
    summary="Send one event; its lead is rescored in the same transaction",
)
async def post_event(
    body: EventCreate, state: StateDep, _caller: IngestDep, response: Response
) -> EventAckPublic:
    events = [_input(body)]
    check_events(events, state.stored.model, now=state.clock())
    result = await _submit(state, events)
    receipt = result.receipts[0]
    if receipt.duplicate:
        response.status_code = 200
    lead = result.leads[0] if result.leads else None
    return EventAckPublic(
        **ReceiptPublic.model_validate(receipt).model_dump(),
        lead=None if lead is None else LeadStatePublic.model_validate(lead),
    )


@router.post(
    "/events:batch",
    response_model=BatchAckPublic,
    summary="Send up to max_batch_events events in one transaction",
)
async def post_events(body: EventBatchCreate, state: StateDep, _caller: IngestDep) -> Response:
    limit = state.settings.max_batch_events
    if len(body.events) > limit:
        raise ApiProblemError(
            413,
            "batch_too_large",
            f"A batch holds at most {limit:,} events (got {len(body.events):,}).",
            field="events",
            hint="Split the events into several batches.",
        )
    events = [_input(event) for event in body.events]
    check_events(events, state.stored.model, now=state.clock(), field_prefix="events")
    result = await _submit(state, events)
    duplicates = sum(r.duplicate for r in result.receipts)
    # The receipts and lead states are the service's own dataclasses, field for field the
    # public models (a test keeps them so): serialised straight to JSON, without building
    # and validating two thousand models first and FastAPI validating and encoding the
    # answer again (that was most of a batch's CPU in the web process).
    ack = {
        "received": len(events),
        "stored": len(events) - duplicates,
        "duplicates": duplicates,
        "receipts": result.receipts,
        "leads": result.leads,
    }
    return Response(to_json(ack), media_type="application/json")
