"""Import leads, accounts, events and outcomes from files into the store.

Each file is read and checked as a whole (bad rows go to a report next to the input), then
written in batches that commit one by one: an import killed halfway leaves whole batches,
and running it again is safe because every write is an idempotent upsert.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, get_args

import polars as pl

from leadgate.engine.freemail import FREE_EMAIL_DOMAINS
from leadgate.engine.normalize import email_domain_expr
from leadgate.exceptions import Location, Problem, UsageError
from leadgate.io import (
    ACCOUNTS,
    EVENTS,
    LEADS,
    OUTCOMES,
    SUPPORTED_EXTENSIONS,
    FrameContract,
    read_frame,
)
from leadgate.io.mappings import load_mapping
from leadgate.io.writers import write_problems_report
from leadgate.model import columns as c
from leadgate.storage import (
    WriteCounts,
    insert_events,
    upsert_accounts,
    upsert_leads,
    upsert_outcomes,
    write_in_batches,
)
from leadgate.storage.lookups import account_ids_by_domain, existing_lead_ids, lead_ids_by_email

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

ImportKind = Literal["leads", "accounts", "events", "outcomes"]
IMPORT_KINDS: Final[tuple[ImportKind, ...]] = get_args(ImportKind)
CONTRACTS: Final[dict[str, FrameContract]] = {
    "leads": LEADS,
    "accounts": ACCOUNTS,
    "events": EVENTS,
    "outcomes": OUTCOMES,
}
COMPANY: Final = "company"
COMPANY_DOMAIN: Final = "company_domain"
ACCOUNT_FIELDS: Final = {
    COMPANY: c.ACCOUNT_NAME,
    c.INDUSTRY: c.INDUSTRY,
    c.EMPLOYEES: c.EMPLOYEES,
    c.ANNUAL_REVENUE: c.ANNUAL_REVENUE,
}
ROW: Final = "__row"

Progress = Callable[[int, int], None]
"""Called with (rows written so far, rows to write)."""


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    kind: str
    file: str
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    merged_duplicates: int
    accounts_created: int
    report: Path | None
    seconds: float


def _report_path(path: Path) -> Path:
    """``leads.2024.csv.gz`` → ``leads.2024.rejected.csv`` (only the format suffix goes)."""
    name = path.name
    for extension in sorted(SUPPORTED_EXTENSIONS, key=len, reverse=True):
        if name.lower().endswith(extension):
            name = name[: -len(extension)]
            break
    return path.with_name(f"{name}.rejected.csv")


def import_file(
    engine: Engine,
    kind: str,
    path: Path,
    *,
    mapping: str | None = None,
    batch_size: int = 50_000,
    now: datetime,
    progress: Progress | None = None,
) -> ImportSummary:
    """Read ``path`` as ``kind`` and upsert its valid rows into the store.

    Args:
        engine: The (migrated) database.
        kind: ``leads``, ``accounts``, ``events`` or ``outcomes``.
        path: CSV, Parquet or NDJSON file.
        mapping: A built-in CRM mapping name (e.g. ``hubspot-contacts``) or a mapping file.
        batch_size: Rows per committed transaction.
        now: The time stamped on inserted and updated rows.
        progress: Optional callback (rows written, rows to write).

    Returns:
        Counts of inserted / updated / unchanged / rejected rows and where the report went.
    """
    if kind not in CONTRACTS:
        raise UsageError(
            f"Cannot import {kind!r}.", hint=f"Import one of: {', '.join(IMPORT_KINDS)}."
        )
    start = time.perf_counter()
    column_mapping = load_mapping(mapping) if mapping is not None else None
    read = read_frame(path, CONTRACTS[kind], skip_invalid=True, mapping=column_mapping)
    frame = read.frame
    problems = list(read.problems)
    rejected = read.rows_rejected
    merged = 0
    accounts_created = 0

    if kind == "leads":
        frame, merged = _merge_duplicate_people(frame)
        counts, accounts_created = _write_leads(engine, frame, batch_size, now, progress)
    elif kind == "events":
        frame, unknown = _drop_unknown_leads(engine, frame, str(path))
        problems += unknown
        rejected += len(unknown)
        counts = _write(engine, frame, insert_events, batch_size, now, progress)
    elif kind == "accounts":
        counts = _write(engine, frame, upsert_accounts, batch_size, now, progress)
    else:
        frame, unknown = _drop_unknown_leads(engine, frame, str(path))
        problems += unknown
        rejected += len(unknown)
        counts = _write(engine, frame, upsert_outcomes, batch_size, now, progress)

    report = None
    if problems:
        report = _report_path(path)
        write_problems_report(problems, report)
    else:  # a report from an earlier run of this file no longer applies
        _report_path(path).unlink(missing_ok=True)
    return ImportSummary(
        kind=kind,
        file=str(path),
        rows_read=read.rows_read,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rejected=rejected,
        merged_duplicates=merged,
        accounts_created=accounts_created,
        report=report,
        seconds=time.perf_counter() - start,
    )


def _write(
    engine: Engine,
    frame: pl.DataFrame,
    writer: Callable[..., WriteCounts],
    batch_size: int,
    now: datetime,
    progress: Progress | None,
) -> WriteCounts:
    total = frame.height

    def on_batch(done: int, _counts: WriteCounts) -> None:
        if progress is not None:
            progress(done, total)

    return write_in_batches(
        engine,
        frame.drop(ROW, strict=False),
        lambda conn, batch: writer(conn, batch, now=now),
        batch_size=batch_size,
        on_batch=on_batch,
    )


def _merge_duplicate_people(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """One row per e-mail: later rows fill and override earlier ones (first row's id wins)."""
    if c.EMAIL not in frame.columns:
        return frame, 0
    with_mail = frame.filter(pl.col(c.EMAIL).is_not_null())
    without = frame.filter(pl.col(c.EMAIL).is_null())
    others = [name for name in frame.columns if name not in (c.EMAIL, c.LEAD_ID)]
    merged = with_mail.group_by(c.EMAIL, maintain_order=True).agg(
        pl.col(c.LEAD_ID).first(), *[pl.col(n).drop_nulls().last() for n in others]
    )
    merged = merged.select(frame.columns)
    return pl.concat([merged, without]), with_mail.height - merged.height


def _write_leads(
    engine: Engine,
    frame: pl.DataFrame,
    batch_size: int,
    now: datetime,
    progress: Progress | None,
) -> tuple[WriteCounts, int]:
    created = 0

    def writer(conn: Connection, batch: pl.DataFrame, *, now: datetime) -> WriteCounts:
        nonlocal created
        batch = _resolve_people(conn, batch)
        created += ensure_named_accounts(conn, batch, now)
        batch, accounts = link_accounts(conn, batch)
        if accounts.height:
            created += upsert_accounts(conn, accounts, now=now).inserted
        extra = [name for name in (COMPANY, COMPANY_DOMAIN) if name in batch.columns]
        batch = batch.drop(extra, *[n for n in ACCOUNT_FIELDS if n in batch.columns])
        return upsert_leads(conn, batch, now=now)

    counts = _write(engine, frame, writer, batch_size, now, progress)
    return counts, created


def _resolve_people(conn: Connection, batch: pl.DataFrame) -> pl.DataFrame:
    """A person already stored under another id keeps that id (de-duplication by e-mail)."""
    batch = batch.with_columns(pl.col(c.LEAD_ID).cast(pl.String))
    if c.EMAIL not in batch.columns:
        return batch
    known = lead_ids_by_email(conn, batch.get_column(c.EMAIL).drop_nulls().to_list())
    if not known.height:
        return batch
    known = known.rename({c.LEAD_ID: "__known_id"})
    return (
        batch.join(known, on=c.EMAIL, how="left", maintain_order="left")
        .with_columns(pl.coalesce("__known_id", c.LEAD_ID).alias(c.LEAD_ID))
        .drop("__known_id")
        .unique(subset=c.LEAD_ID, keep="last", maintain_order=True)
    )


def ensure_named_accounts(conn: Connection, batch: pl.DataFrame, now: datetime) -> int:
    """Create a bare account for every ``account_id`` the rows name that is not stored yet.

    CRM exports link people to their company by the CRM's own id (Salesforce ``AccountId``,
    HubSpot ``Associated Company ID``), often before (or without) the companies being
    imported. Without the account the lead would break the foreign key and abort the whole
    import; a bare account keeps the link, and importing the companies later fills it in
    (upsert by the same id). Upserting only the id never changes a stored account.

    Returns:
        How many accounts were created.
    """
    if c.ACCOUNT_ID not in batch.columns:
        return 0
    ids = (
        batch.select(pl.col(c.ACCOUNT_ID).cast(pl.String)).drop_nulls().unique(maintain_order=True)
    )
    if not ids.height:
        return 0
    return upsert_accounts(conn, ids, now=now).inserted


def _company_domain(batch: pl.DataFrame) -> pl.Expr:
    """The company's domain: the given one, else the e-mail's, never a free-mail domain."""
    given = pl.col(COMPANY_DOMAIN) if COMPANY_DOMAIN in batch.columns else pl.lit(None, pl.String)
    from_mail = (
        email_domain_expr(pl.col(c.EMAIL)) if c.EMAIL in batch.columns else pl.lit(None, pl.String)
    )
    domain = pl.coalesce(given, from_mail)
    return pl.when(domain.is_in(sorted(FREE_EMAIL_DOMAINS))).then(None).otherwise(domain)


def link_accounts(conn: Connection, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Link leads without an account to the account owning their company domain.

    Returns the batch and the accounts to create (rows that name a company we do not have).
    """
    if c.ACCOUNT_ID not in batch.columns:
        batch = batch.with_columns(pl.lit(None, pl.String).alias(c.ACCOUNT_ID))
    batch = batch.with_columns(
        pl.col(c.ACCOUNT_ID).cast(pl.String), _company_domain(batch).alias("__domain")
    )
    domains = batch.filter(pl.col(c.ACCOUNT_ID).is_null()).get_column("__domain").drop_nulls()
    known = account_ids_by_domain(conn, domains.unique().to_list()).rename(
        {c.DOMAIN: "__domain", c.ACCOUNT_ID: "__account"}
    )
    batch = batch.join(known, on="__domain", how="left", maintain_order="left")
    has_company = COMPANY in batch.columns or COMPANY_DOMAIN in batch.columns
    new_accounts = pl.DataFrame()
    if has_company:
        named = pl.col(COMPANY).is_not_null() if COMPANY in batch.columns else pl.lit(False)
        given = (
            pl.col(COMPANY_DOMAIN).is_not_null()
            if COMPANY_DOMAIN in batch.columns
            else pl.lit(False)
        )
        wanted = batch.filter(
            pl.col(c.ACCOUNT_ID).is_null()
            & pl.col("__account").is_null()
            & pl.col("__domain").is_not_null()
            & (named | given)
        )
        fields = [
            pl.col(src).drop_nulls().last().alias(dst)
            for src, dst in ACCOUNT_FIELDS.items()
            if src in wanted.columns
        ]
        new_accounts = wanted.group_by("__domain", maintain_order=True).agg(*fields)
        new_accounts = new_accounts.with_columns(
            pl.col("__domain").alias(c.ACCOUNT_ID), pl.col("__domain").alias(c.DOMAIN)
        ).drop("__domain")
        batch = batch.with_columns(
            pl.when(
                pl.col(c.ACCOUNT_ID).is_null()
                & pl.col("__account").is_null()
                & pl.col("__domain").is_in(new_accounts.get_column(c.DOMAIN).implode())
            )
            .then(pl.col("__domain"))
            .otherwise(pl.col("__account"))
            .alias("__account")
        )
    batch = batch.with_columns(pl.coalesce(c.ACCOUNT_ID, "__account").alias(c.ACCOUNT_ID))
    return batch.drop("__domain", "__account"), new_accounts


def _drop_unknown_leads(
    engine: Engine, frame: pl.DataFrame, file: str
) -> tuple[pl.DataFrame, list[Problem]]:
    """Rows about leads that are not stored cannot be imported; say so per row."""
    if c.LEAD_ID not in frame.columns or not frame.height:
        return frame, []
    frame = frame.with_columns(pl.col(c.LEAD_ID).cast(pl.String))
    with engine.connect() as conn:
        stored = existing_lead_ids(conn, frame.get_column(c.LEAD_ID).unique().to_list())
    known = pl.col(c.LEAD_ID).is_in(stored.implode())
    unknown = frame.filter(~known)
    problems = [
        Problem(
            code="unknown_lead",
            message=f"lead_id {lead_id!r} is not in the database.",
            location=Location(file=file, row=row, field=c.LEAD_ID),
            hint="Import the leads first (leadgate import leads FILE), then this file again.",
        )
        for lead_id, row in zip(
            unknown.get_column(c.LEAD_ID),
            unknown.get_column(ROW) if ROW in unknown.columns else [None] * unknown.height,
            strict=True,
        )
    ]
    return frame.filter(known), problems


__all__ = [
    "ACCOUNT_FIELDS",
    "IMPORT_KINDS",
    "ImportKind",
    "ImportSummary",
    "ensure_named_accounts",
    "import_file",
    "link_accounts",
]
