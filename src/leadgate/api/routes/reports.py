"""A rep's queue, the funnel, and opportunity outcomes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from leadgate.api.deps import LeadReaderDep, ReportsDep, StateDep
from leadgate.api.errors import PROBLEM_RESPONSES
from leadgate.api.schemas import (
    FunnelPairPublic,
    FunnelPublic,
    FunnelStagePublic,
    OutcomeCreate,
    OutcomePublic,
    QueueItemPublic,
    QueuePublic,
)
from leadgate.services import leads as lead_views
from leadgate.services.access import check_lead_access, queue_owner

router = APIRouter(prefix="/v1", tags=["reports"], responses=PROBLEM_RESPONSES)
Dimension = Annotated[str, Query(pattern=r"^[a-z_]{1,40}$")]


@router.get("/queue", summary="A rep's open leads, most urgent first, with SLA due times")
def get_queue(
    state: StateDep,
    caller: LeadReaderDep,
    owner_id: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.:@+\-]*$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> QueuePublic:
    owner = queue_owner(caller, owner_id)
    items = lead_views.rep_queue(state.engine, owner, limit=limit)
    return QueuePublic(
        owner_id=owner, items=[QueueItemPublic.model_validate(item) for item in items]
    )


@router.get("/funnel", summary="Stage counts and conversion between every pair of stages")
async def get_funnel(
    state: StateDep,
    _caller: ReportsDep,
    by: Annotated[list[Dimension] | None, Query(max_length=3)] = None,
) -> FunnelPublic:
    from leadgate.analytics.funnel import FunnelQuery
    from leadgate.services.analytics import AnalyticsSource, load_funnel_data

    dims = tuple(dict.fromkeys(by or []))
    source = AnalyticsSource(database=state.settings.database_url)
    data = await run_in_threadpool(load_funnel_data, source)
    result = await run_in_threadpool(FunnelQuery(by=dims).run, data)
    stages = [
        FunnelStagePublic(
            group={d: row[d] for d in dims},
            stage=row["stage"],
            leads=row["leads"],
            dated=row["dated"],
        )
        for row in result.stages.iter_rows(named=True)
    ]
    pairs = [
        FunnelPairPublic(
            group={d: row[d] for d in dims},
            from_stage=row["from_stage"],
            to_stage=row["to_stage"],
            from_leads=row["from_leads"],
            to_leads=row["to_leads"],
            rate=row["rate"],
        )
        for row in result.pairs.iter_rows(named=True)
    ]
    return FunnelPublic(by=list(dims), stages=stages, pairs=pairs)


@router.post("/outcomes", status_code=201, summary="Record an opportunity's outcome")
def post_outcome(body: OutcomeCreate, state: StateDep, caller: LeadReaderDep) -> OutcomePublic:
    check_lead_access(state.engine, caller, body.lead_id)
    created = lead_views.record_outcomes(state.engine, [body.model_dump(exclude_unset=True)])
    return OutcomePublic(
        opportunity_id=body.opportunity_id, lead_id=body.lead_id, created=bool(created)
    )
