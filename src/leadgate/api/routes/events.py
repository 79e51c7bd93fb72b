"""``POST /v1/events`` and ``POST /v1/events:batch``: store events, rescore their leads.

Both are idempotent by ``event_id``: a replay is answered with the original receipt and
``duplicate: true`` (status 200 instead of 201 for a single event), and stores nothing.
An event naming a lead that is not stored (or was erased) is refused with 422
``unknown_lead``; in a batch, the whole batch is refused and nothing is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import fields
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
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
from leadgate.services.event_columns import (
    EventColumns,
    IngestOutcome,
    LeadState,
    check_events,
)

router = APIRouter(prefix="/v1", tags=["events"], responses=PROBLEM_RESPONSES)
_LEAD_FIELDS: Final = tuple(f.name for f in fields(LeadState))


async def _submit(state: StateDep, events: EventColumns) -> IngestOutcome:
    try:
        outcome = await state.writer.submit(events)
    except WriterStoppedError:
        raise ApiProblemError(
            503, "shutting_down", "The service is stopping.", hint="Retry shortly."
        ) from None
    if outcome.error is not None:
        raise outcome.error
    return outcome


@router.post(
    "/events",
    status_code=201,
    responses={200: {"model": EventAckPublic, "description": "A replay: the first receipt"}},
    summary="Send one event; its lead is rescored in the same transaction",
)
async def post_event(
    body: EventCreate, state: StateDep, _caller: IngestDep, response: Response
) -> EventAckPublic:
    check_events([body], state.stored.model, now=state.clock())
    events = EventColumns.of([body])
    outcome = await _submit(state, events)
    receipt = outcome.receipts(events)[0]
    if receipt.duplicate:
        response.status_code = 200
    lead = LeadState(*outcome.leads[0]) if outcome.leads else None
    return EventAckPublic(
        **ReceiptPublic.model_validate(receipt).model_dump(),
        lead=None if lead is None else LeadStatePublic.model_validate(lead),
    )


class _BatchRequest(Request):
    """A request whose JSON body is validated straight from its bytes.

    FastAPI would decode the JSON into Python objects and validate those; pydantic reads a
    valid batch from the bytes at once (without a dict per event in between), and FastAPI
    then takes the model as it is. A body that is not a valid batch is handed over as
    decoded JSON (or fails to decode) exactly as before, so FastAPI reports it as always.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json: Any = EventBatchCreate.model_validate_json(body)
            except ValidationError:
                self._json = json.loads(body)
        return self._json


class _BatchRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def read_batch(request: Request) -> Response:
            return await handler(_BatchRequest(request.scope, request.receive))

        return read_batch


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
    events = EventColumns.of(body.events)
    check_events(
        body.events, state.stored.model, now=state.clock(), field_prefix="events", columns=events
    )
    outcome = await _submit(state, events)
    # Serialised straight to JSON from the writer's columns, without building and
    # validating two thousand models first and FastAPI validating and encoding the answer
    # again (that was most of a batch's CPU in the web process). The keys are those of
    # ReceiptPublic and LeadStatePublic, in order (a test keeps them so).
    return Response(to_json(_batch_ack(events, outcome)), media_type="application/json")


router.add_api_route(
    "/events:batch",
    post_events,
    methods=["POST"],
    response_model=BatchAckPublic,
    summary="Send up to max_batch_events events in one transaction",
    route_class_override=_BatchRoute,
)


def _batch_ack(events: EventColumns, outcome: IngestOutcome) -> dict[str, Any]:
    at, ids = outcome.received_at, events.event_ids
    receipts = [
        {"event_id": event_id, "lead_id": lead_id, "received_at": at, "duplicate": False}
        for event_id, lead_id in zip(ids, events.lead_ids, strict=True)
    ]
    for i, (lead_id, received_at) in outcome.duplicates.items():
        receipts[i] = {
            "event_id": ids[i],
            "lead_id": lead_id,
            "received_at": received_at,
            "duplicate": True,
        }
    duplicates = len(outcome.duplicates)
    return {
        "received": len(events),
        "stored": len(events) - duplicates,
        "duplicates": duplicates,
        "receipts": receipts,
        "leads": [dict(zip(_LEAD_FIELDS, row, strict=True)) for row in outcome.leads],
    }
