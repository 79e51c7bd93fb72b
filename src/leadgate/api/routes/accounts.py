"""Accounts: create or update one or many; their live leads are rescored in the same transaction."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from leadgate.api.deps import IngestDep, StateDep
from leadgate.api.errors import PROBLEM_RESPONSES
from leadgate.api.schemas import (
    AccountBatchCreate,
    AccountCreate,
    LeadStatePublic,
    UpsertPublic,
)
from leadgate.services.records import upsert_account_records

router = APIRouter(prefix="/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)
AccountId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.:@+\-]*$")]


def _record(account_id: str, body: AccountCreate) -> dict[str, Any]:
    return {
        "account_id": account_id,
        **body.model_dump(exclude={"account_id"}, exclude_unset=True),
    }


@router.put("/accounts/{account_id}", summary="Create or update an account, then rescore its leads")
def put_account(
    account_id: AccountId, body: AccountCreate, state: StateDep, _caller: IngestDep
) -> UpsertPublic:
    return _upsert(state, [_record(account_id, body)])


@router.post("/accounts", summary="Create or update up to 1,000 accounts, then rescore their leads")
def post_accounts(body: AccountBatchCreate, state: StateDep, _caller: IngestDep) -> UpsertPublic:
    return _upsert(state, [_record(a.account_id, a) for a in body.accounts])


def _upsert(state: StateDep, records: list[dict[str, Any]]) -> UpsertPublic:
    done = upsert_account_records(
        state.engine,
        state.stored.model,
        records,
        now=state.clock(),
        recheck_days=state.settings.recheck_days,
    )
    return UpsertPublic(
        written=len({r["account_id"] for r in records}),
        created=done.created,
        leads=[LeadStatePublic.model_validate(s) for s in done.leads],
    )
