"""Leads: upsert, read in full, erase, record consent, and sales actions.

A sales key reads and acts on its own rep's leads only: another rep's (or an unassigned)
lead answers 403 ``forbidden``. An unknown or erased lead answers 404 ``not_found``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from leadgate.api.deps import AdminDep, IngestDep, LeadReaderDep, StateDep
from leadgate.api.errors import PROBLEM_RESPONSES
from leadgate.api.schemas import (
    Action,
    ActionCreate,
    ActionPublic,
    ConsentCreate,
    ConsentPublic,
    ErasurePublic,
    LeadBatchCreate,
    LeadCreate,
    LeadPublic,
    LeadStatePublic,
    UpsertPublic,
)
from leadgate.services import leads as lead_views
from leadgate.services.access import Role, check_lead_access
from leadgate.services.lifecycle import perform_action
from leadgate.services.records import upsert_lead_records

router = APIRouter(prefix="/v1", tags=["leads"], responses=PROBLEM_RESPONSES)
LeadId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.:@+\-]*$")]


def _record(lead_id: str, body: LeadCreate) -> dict[str, Any]:
    return {"lead_id": lead_id, **body.model_dump(exclude={"lead_id"}, exclude_unset=True)}


def _upsert(state: StateDep, records: list[dict[str, Any]]) -> UpsertPublic:
    states = upsert_lead_records(
        state.engine,
        state.stored.model,
        records,
        now=state.clock(),
        recheck_days=state.settings.recheck_days,
    )
    return UpsertPublic(
        written=len(states),
        created=0,
        leads=[LeadStatePublic.model_validate(s) for s in states],
    )


@router.put("/leads/{lead_id}", summary="Create or update a lead, then rescore it")
def put_lead(
    lead_id: LeadId, body: LeadCreate, state: StateDep, _caller: IngestDep
) -> UpsertPublic:
    return _upsert(state, [_record(lead_id, body)])


@router.post("/leads", summary="Create or update up to 1,000 leads in one transaction")
def post_leads(body: LeadBatchCreate, state: StateDep, _caller: IngestDep) -> UpsertPublic:
    return _upsert(state, [_record(lead.lead_id, lead) for lead in body.leads])


@router.get("/leads/{lead_id}", summary="A lead: scores, stage, owner, consent, why, timeline")
def get_lead(lead_id: LeadId, state: StateDep, caller: LeadReaderDep) -> LeadPublic:
    check_lead_access(state.engine, caller, lead_id)
    detail = lead_views.lead_detail(state.engine, state.stored.model, lead_id, now=state.clock())
    return LeadPublic.model_validate(
        {
            **{k: getattr(detail, k) for k in LeadPublic.model_fields if k != "consent"},
            "consent": {"ok": detail.consent_ok, "reason": detail.consent_reason},
        }
    )


@router.delete("/leads/{lead_id}", summary="Erase a person's data and events (admin)")
def delete_lead(lead_id: LeadId, state: StateDep, caller: AdminDep) -> ErasurePublic:
    summary = lead_views.erase(state.engine, lead_id, actor=caller.key_id, now=state.clock())
    return ErasurePublic.model_validate(summary)


@router.post("/leads/{lead_id}/consents", status_code=201, summary="Record consent for a channel")
def post_consent(
    lead_id: LeadId, body: ConsentCreate, state: StateDep, _caller: IngestDep
) -> ConsentPublic:
    at = body.recorded_at or state.clock()
    consent_id = lead_views.add_consent(
        state.engine,
        lead_id,
        channel=body.channel,
        status=body.status,
        lawful_basis=body.lawful_basis,
        source=body.source,
        recorded_at=at,
    )
    return ConsentPublic(
        consent_id=consent_id,
        lead_id=lead_id,
        channel=body.channel,
        status=body.status,
        lawful_basis=body.lawful_basis,
        recorded_at=at,
    )


@router.post(
    "/leads/{lead_id}/actions/{action}",
    summary="accept, recycle, disqualify, convert, won or lost, with a reason code",
)
async def post_action(
    lead_id: LeadId,
    action: Action,
    state: StateDep,
    caller: LeadReaderDep,
    response: Response,
    body: ActionCreate | None = None,
) -> ActionPublic:
    body = body or ActionCreate()
    await run_in_threadpool(check_lead_access, state.engine, caller, lead_id)
    result = await run_in_threadpool(
        lambda: perform_action(
            state.engine,
            lead_id,
            action,
            at=state.clock(),
            actor=caller.owner_id or f"key:{caller.key_id}",
            reason=body.reason,
            recheck_at=body.recheck_at,
            recheck_days=state.settings.recheck_days,
            model=state.stored.model,
            only_owner=caller.owner_id if caller.role is Role.SALES else None,
        )
    )
    move = result.move
    return ActionPublic(
        lead_id=result.lead_id,
        action=action,
        from_stage=move.from_stage,
        to_stage=move.to_stage,
        reason=move.reason,
        recheck_at=move.recheck_at,
        at=result.at,
    )
