"""Health, and operations an admin may trigger: an SLA sweep, a webhook delivery pass and
the replay of dead webhook deliveries.

``POST /v1/admin/sla:sweep`` takes an explicit ``now``: an operator can catch up after
downtime, and tests can move time forward without waiting for working hours to pass.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from leadgate.api.deps import AdminDep, StateDep
from leadgate.api.errors import PROBLEM_RESPONSES
from leadgate.api.schemas import (
    DeliveryPublic,
    HealthPublic,
    ReplayCreate,
    ReplayPublic,
    SweepCreate,
    SweepPublic,
)
from leadgate.services.access import database_ok
from leadgate.services.sla import sweep
from leadgate.services.webhooks import deliver_due, replay_dead

router = APIRouter(prefix="/v1", tags=["operations"], responses=PROBLEM_RESPONSES)


@router.get("/health", summary="Whether the service and its database are up (no key needed)")
async def get_health(state: StateDep) -> HealthPublic:
    ok = await run_in_threadpool(database_ok, state.engine)
    return HealthPublic(
        status="ok" if ok else "degraded",
        database=ok,
        model_version=state.stored.model.version,
    )


@router.post("/admin/sla:sweep", summary="Sweep SLA clocks now, or as of a given moment")
async def post_sweep(
    state: StateDep, _caller: AdminDep, body: SweepCreate | None = None
) -> SweepPublic:
    moment = (body.now if body is not None else None) or state.clock()
    summary = await state.sweep.run_now(lambda: sweep(state.engine, state.stored.model, now=moment))
    return SweepPublic(
        now=summary.now,
        breached=summary.breached,
        reassigned=summary.reassigned,
        notified=summary.notified,
    )


@router.post("/admin/webhooks:deliver", summary="Deliver due webhooks now")
async def post_deliver(state: StateDep, _caller: AdminDep) -> DeliveryPublic:
    summary = await state.webhooks.run_now(
        lambda: deliver_due(state.engine, now=state.clock(), send=state.sender)
    )
    return DeliveryPublic.model_validate(summary)


@router.post(
    "/admin/webhooks:replay",
    summary="Put dead webhook deliveries back to pending (same message ids), due now",
)
async def post_replay(
    state: StateDep, caller: AdminDep, body: ReplayCreate | None = None
) -> ReplayPublic:
    filters = body if body is not None else ReplayCreate()
    replayed = await state.webhooks.run_now(
        lambda: replay_dead(
            state.engine,
            now=state.clock(),
            endpoint_id=filters.endpoint_id,
            message_id=filters.message_id,
            since=filters.since,
            actor=f"key:{caller.key_id}",
        )
    )
    return ReplayPublic(replayed=replayed)
