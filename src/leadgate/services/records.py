"""Lead and account upserts from API records, rescored and routed in the same transaction.

Records are flat JSON objects: a lead's own fields, company fields that create or link an
account exactly as a file import does, and custom fields. A write that would clash (an
e-mail another lead has, a lead that was erased) is refused as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from leadgate.exceptions import ConflictError, InputDataError, Problem
from leadgate.io import COMPANY, COMPANY_DOMAIN
from leadgate.io.normalise import domain_problem, email_problem, normalise_domain, normalise_email
from leadgate.model import columns as c
from leadgate.services.event_columns import LeadState, field_problem

# The API creates and links accounts exactly as a file import does.
from leadgate.services.importing import ACCOUNT_FIELDS, ensure_named_accounts, link_accounts
from leadgate.services.ingest import read_lead_states, route_leads, unassigned_in_routed_stage
from leadgate.services.lifecycle import rescore_leads
from leadgate.storage import read_leads, transaction, upsert_accounts, upsert_leads
from leadgate.storage import tables as t
from leadgate.storage.live import live_lead_ids
from leadgate.storage.lookups import existing_lead_ids, lead_ids_by_account, lead_ids_by_email

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from leadgate.model.compiled import QualificationModel


def upsert_lead_records(
    engine: Engine,
    model: QualificationModel,
    records: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    recheck_days: int = 30,
) -> list[LeadState]:
    """Create or update leads from API records and rescore them, in one transaction.

    Records are flat: the ``leads`` columns (``lead_id``, ``email``, names, ``title``,
    ``country``, ``source``, ``account_id``, ``created_at``), company fields that create or
    link an account as an import does (``company``, ``company_domain``, ``industry``,
    ``employees``, ``annual_revenue``) and custom fields, which merge into the lead's
    attributes. The leads are then scored as of ``now`` and routed if they qualify.

    Raises:
        InputDataError: An e-mail or company domain that is not one.
        ConflictError: An e-mail stored on another lead, or a lead that was erased.
    """
    reserved = {*t.leads.columns.keys(), COMPANY, COMPANY_DOMAIN, *ACCOUNT_FIELDS}
    frame = _frame(records, reserved, "leads")
    frame = _clean_contacts(frame)
    if c.CREATED_AT in frame.columns:
        frame = frame.with_columns(pl.col(c.CREATED_AT).fill_null(pl.lit(now)))
    ids = frame.get_column(c.LEAD_ID).to_list()
    with transaction(engine) as conn:
        _refuse_conflicts(conn, frame, ids)
        ensure_named_accounts(conn, frame, now)
        given = c.ACCOUNT_ID in frame.columns
        frame, accounts = link_accounts(conn, frame)
        if not given:  # a partial update keeps the stored account unless a domain links one
            stored = read_leads(conn, ids).select(c.LEAD_ID, pl.col(c.ACCOUNT_ID).alias("__a"))
            frame = (
                frame.join(stored, on=c.LEAD_ID, how="left", maintain_order="left")
                .with_columns(pl.coalesce(c.ACCOUNT_ID, "__a").alias(c.ACCOUNT_ID))
                .drop("__a")
            )
        if accounts.height:
            upsert_accounts(conn, accounts, now=now)
        company = [n for n in (COMPANY, COMPANY_DOMAIN, *ACCOUNT_FIELDS) if n in frame.columns]
        upsert_leads(conn, frame.drop(company), now=now)
        rescore_leads(
            conn, model, ids, as_of=now, now=now, recheck_days=recheck_days, action="auto"
        )
        route_leads(conn, model, ids, now)
        states = read_lead_states(conn, ids)
    return [states[lead_id] for lead_id in dict.fromkeys(ids)]


@dataclass(frozen=True)
class AccountUpsert:
    """What an account upsert did: accounts created, and the new state of their leads."""

    created: int
    leads: tuple[LeadState, ...]


def upsert_account_records(
    engine: Engine,
    model: QualificationModel,
    records: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    recheck_days: int = 30,
) -> AccountUpsert:
    """Create or update accounts from API records and rescore their leads, in one transaction.

    An account's fields (industry, size, revenue, ...) feed its contacts' fit, so the live
    leads at these accounts are scored again as of ``now`` — stage moves, SLA clocks, outbox
    messages and routing included, exactly as after a lead upsert.

    Raises:
        InputDataError: A domain that is not one.
        StorageError: A domain that another account already has.
    """
    frame = _frame(records, set(t.accounts.columns.keys()), "accounts")
    frame = _clean_domain(frame, c.DOMAIN)
    account_ids = [str(i) for i in frame.get_column(c.ACCOUNT_ID).unique().to_list()]
    with transaction(engine) as conn:
        created = upsert_accounts(conn, frame, now=now).inserted
        at_accounts = lead_ids_by_account(conn, account_ids).get_column(c.LEAD_ID).to_list()
        ids = sorted(live_lead_ids(conn, at_accounts).to_list()) if at_accounts else []
        if not ids:
            return AccountUpsert(created, ())
        _, applied = rescore_leads(
            conn, model, ids, as_of=now, now=now, recheck_days=recheck_days, action="auto"
        )
        route_leads(conn, model, unassigned_in_routed_stage(model, applied, ids), now)
        states = read_lead_states(conn, ids)
    return AccountUpsert(created, tuple(states[lead_id] for lead_id in ids if lead_id in states))


def _frame(records: Sequence[Mapping[str, object]], reserved: set[str], what: str) -> pl.DataFrame:
    """Records as a frame; each one's ``attributes`` become columns (custom fields)."""
    flat: list[dict[str, object]] = []
    problems: list[Problem] = []
    for i, record in enumerate(records):
        row = {k: v for k, v in record.items() if k != "attributes"}
        extra = record.get("attributes") or {}
        assert isinstance(extra, Mapping)
        for name in sorted(reserved.intersection(extra)):
            where = f"{what}[{i}].attributes.{name}" if len(records) > 1 else f"attributes.{name}"
            problems.append(
                field_problem(
                    "reserved_attribute",
                    f"attributes may not set {name!r}: it is a field of its own.",
                    where,
                    "Send it as a top-level field, or rename the custom field.",
                )
            )
        flat.append(row | dict(extra))
    if problems:
        raise InputDataError(problems, summary=problems[0].message)
    return pl.from_dicts(flat, infer_schema_length=None, strict=False)


def _clean_contacts(frame: pl.DataFrame) -> pl.DataFrame:
    if c.EMAIL in frame.columns:
        frame = frame.with_columns(normalise_email(c.EMAIL).alias(c.EMAIL))
        _raise_problems(frame, c.EMAIL, email_problem(pl.col(c.EMAIL)), "bad_email")
    return _clean_domain(frame, COMPANY_DOMAIN)


def _clean_domain(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    if column not in frame.columns:
        return frame
    frame = frame.with_columns(normalise_domain(column).alias(column))
    _raise_problems(frame, column, domain_problem(pl.col(column)), "bad_domain")
    return frame


def _raise_problems(frame: pl.DataFrame, column: str, why: pl.Expr, code: str) -> None:
    found = frame.with_row_index("__i").select("__i", why.alias("__why")).drop_nulls("__why")
    if not found.height:
        return
    problems = [
        field_problem(code, f"{column} is not valid: {reason}.", _at(frame, i, column), "")
        for i, reason in found.head(20).iter_rows()
    ]
    raise InputDataError(problems, summary=problems[0].message)


def _at(frame: pl.DataFrame, index: int, column: str) -> str:
    return column if frame.height == 1 else f"leads[{index}].{column}"


def _refuse_conflicts(conn: Connection, frame: pl.DataFrame, ids: list[str]) -> None:
    live = set(live_lead_ids(conn, ids).to_list())
    erased = set(existing_lead_ids(conn, ids).to_list()) - live
    if erased:
        raise ConflictError(
            f"Lead {sorted(erased)[0]!r} was erased and cannot be written again.",
            hint="A person who asked to be erased is not re-created; use a new lead id only "
            "with a new, lawful basis for processing.",
            code="lead_erased",
        )
    if c.EMAIL not in frame.columns:
        return
    owners = lead_ids_by_email(conn, frame.get_column(c.EMAIL).drop_nulls().to_list())
    clash = frame.join(owners.rename({c.LEAD_ID: "__owner"}), on=c.EMAIL, how="inner").filter(
        pl.col("__owner") != pl.col(c.LEAD_ID)
    )
    dupes = frame.filter(pl.col(c.EMAIL).is_not_null() & pl.col(c.EMAIL).is_duplicated())
    if clash.height or dupes.height:
        raise ConflictError(
            "An e-mail address belongs to another lead.",
            hint="Send the person under their stored lead id; one e-mail is one person.",
            code="email_taken",
        )


__all__ = ["AccountUpsert", "upsert_account_records", "upsert_lead_records"]
