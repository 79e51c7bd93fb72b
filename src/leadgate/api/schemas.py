"""Request (``XCreate``) and response (``XPublic``) bodies of the REST API.

Requests are strict: no coercion (``false`` is not ``0``, ``"5"`` is not ``5``), unknown
fields are refused, every string has a length limit and no NUL characters (PostgreSQL
cannot store them). Timestamps are the one exception to strictness: JSON has no date type,
so they are ISO 8601 strings and must carry a time zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

Id = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][\w.:@+\-]*$")
]
"""An id: letters, digits and ``_ . : @ + -``, starting with a letter or digit."""
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
"""A short code such as a reason, channel or status: ``no_budget``, ``email``."""
Key = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
]
"""A field or property name."""
Text = Annotated[str, StringConstraints(max_length=1_000, pattern=r"^[^\x00]*$")]


def _iso_text(value: object) -> object:
    if isinstance(value, str | datetime):
        return value
    raise ValueError("expected an ISO 8601 date-time string with a time zone")


Timestamp = Annotated[AwareDatetime, Strict(False), BeforeValidator(_iso_text)]
"""ISO 8601 text with a time zone, e.g. ``2026-10-01T09:30:00Z`` (not a number)."""
Int = Annotated[int, Field(ge=-(2**53), le=2**53)]
Count = Annotated[int, Field(ge=0, le=10**9)]
Money = Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)]
Scalar = Annotated[str, StringConstraints(max_length=1_000, pattern=r"^[^\x00]*$")] | Int | bool
Number = Annotated[float, Field(allow_inf_nan=False)]
Properties = Annotated[dict[Key, Scalar | Number | None], Field(max_length=50)]


class _Create(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- errors ----------------------------------------------------------------------------------


class ProblemItemPublic(_Public):
    """One of several things wrong with a request."""

    code: str
    detail: str
    field: str | None = None


class ProblemPublic(_Public):
    """An RFC 9457 problem (``application/problem+json``) with leadgate's error code."""

    type: str = Field(description="A URI naming the kind of problem: urn:leadgate:problem:CODE")
    title: str
    status: int
    code: str = Field(description="Stable, machine-readable error code")
    detail: str
    field: str | None = Field(default=None, description="The request field at fault, if one is")
    hint: str | None = None
    errors: list[ProblemItemPublic] | None = None


# --- events ----------------------------------------------------------------------------------


class EventCreate(_Create):
    """One thing a person did: ``event_id`` makes sending it again harmless."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event_id": "evt-0001",
                    "lead_id": "L1",
                    "event_type": "page_view",
                    "occurred_at": "2026-09-30T14:00:00Z",
                    "properties": {"url": "/pricing"},
                }
            ]
        }
    )

    event_id: Id
    lead_id: Id
    event_type: Key
    occurred_at: Timestamp
    properties: Properties = Field(default_factory=dict)


class EventBatchCreate(_Create):
    """Up to ``max_batch_events`` (default 1,000) events in one request."""

    events: Annotated[list[EventCreate], Field(min_length=1)]


class LeadStatePublic(_Public):
    """Where a lead stands after a write was applied."""

    lead_id: str
    stage: str
    grade: str | None
    fit_score: float | None
    engagement_score: float | None
    product_score: float | None
    owner_id: str | None


class ReceiptPublic(_Public):
    """The acknowledgement of an event; a replay gets the first one, with ``duplicate``."""

    event_id: str
    lead_id: str
    received_at: datetime
    duplicate: bool


class EventAckPublic(ReceiptPublic):
    lead: LeadStatePublic | None = Field(
        default=None, description="The lead rescored with this event (absent for a duplicate)"
    )


class BatchAckPublic(_Public):
    received: int
    stored: int
    duplicates: int
    receipts: list[ReceiptPublic]
    leads: list[LeadStatePublic]


# --- leads and accounts ----------------------------------------------------------------------


class LeadCreate(_Create):
    """A person: contact and company fields, and custom fields in ``attributes``."""

    email: Annotated[str, StringConstraints(max_length=320, pattern=r"^[^\x00]*$")] | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    title: Text | None = None
    phone: Text | None = None
    country: Text | None = None
    source: Text | None = None
    account_id: Id | None = None
    company: Text | None = None
    company_domain: Text | None = None
    industry: Text | None = None
    employees: Count | None = None
    annual_revenue: Money | None = None
    created_at: Timestamp | None = None
    attributes: Properties = Field(
        default_factory=dict, description="Custom fields, e.g. discovery answers"
    )


class LeadUpsert(LeadCreate):
    lead_id: Id


class LeadBatchCreate(_Create):
    leads: Annotated[list[LeadUpsert], Field(min_length=1, max_length=1_000)]


class AccountCreate(_Create):
    name: Text | None = None
    domain: Text | None = None
    industry: Text | None = None
    country: Text | None = None
    employees: Count | None = None
    annual_revenue: Money | None = None
    attributes: Properties = Field(default_factory=dict, description="e.g. tech_stack")


class AccountUpsert(AccountCreate):
    account_id: Id


class AccountBatchCreate(_Create):
    accounts: Annotated[list[AccountUpsert], Field(min_length=1, max_length=1_000)]


class UpsertPublic(_Public):
    written: int
    created: int
    leads: list[LeadStatePublic] = Field(default_factory=list)


class LedgerLinePublic(_Public):
    kind: str
    rule_id: str
    description: str | None
    points: float
    events: int | None
    decay_factor: float | None


class TimelineItemPublic(_Public):
    at: datetime
    kind: Literal["event", "stage", "assignment"]
    summary: str
    details: dict[str, object]


class SlaClockPublic(_Public):
    stage: str
    started_at: datetime
    due_at: datetime | None
    breached_at: datetime | None
    owner_id: str | None
    team_id: str | None


class ConsentFlagPublic(_Public):
    ok: bool = Field(description="Whether the lead may be routed to outreach")
    reason: str | None


class LeadPublic(_Public):
    """A lead in full: scores, lifecycle, consent, why, timeline and SLA clock."""

    lead_id: str
    account_id: str | None
    owner_id: str | None
    stage: str
    stage_changed_at: datetime | None
    contact: dict[str, object]
    scores: dict[str, object]
    consent: ConsentFlagPublic
    why_as_of: datetime
    why: list[LedgerLinePublic]
    missing_fields: str | None
    timeline: list[TimelineItemPublic]
    sla: list[SlaClockPublic]


class ErasurePublic(_Public):
    lead_id: str
    erased_at: datetime
    events_deleted: int
    consents_deleted: int
    already_erased: bool


# --- lifecycle, outcomes, consent ------------------------------------------------------------

Action = Literal["accept", "recycle", "disqualify", "convert", "won", "lost"]


class ActionCreate(_Create):
    reason: Code | None = Field(default=None, description="Required to recycle, disqualify or lose")
    recheck_at: Timestamp | None = Field(
        default=None, description="Recycle only: when to look again"
    )


class ActionPublic(_Public):
    lead_id: str
    action: str
    from_stage: str
    to_stage: str
    reason: str | None
    recheck_at: datetime | None
    at: datetime


class OutcomeCreate(_Create):
    opportunity_id: Id
    lead_id: Id
    opportunity_created_at: Timestamp | None = None
    amount: Money | None = None
    won: bool | None = None
    closed_at: Timestamp | None = None
    lost_reason: Code | None = None


class OutcomePublic(_Public):
    opportunity_id: str
    lead_id: str
    created: bool


class ConsentCreate(_Create):
    channel: Code = Field(description="email, phone, ... or all")
    status: Code = Field(description="granted, pending, withdrawn, denied or objected")
    lawful_basis: Code | None = None
    source: Text | None = None
    recorded_at: Timestamp | None = Field(default=None, description="Default: when it is received")


class ConsentPublic(_Public):
    consent_id: int
    lead_id: str
    channel: str
    status: str
    lawful_basis: str | None
    recorded_at: datetime


# --- queue, funnel, operations ---------------------------------------------------------------


class QueueItemPublic(_Public):
    rank: int
    lead_id: str
    stage: str
    grade: str | None
    fit_score: float | None
    engagement_score: float | None
    expected_value: float | None
    p_convert: float | None
    potential_value: float | None
    due_at: datetime | None
    breached: bool


class QueuePublic(_Public):
    owner_id: str
    items: list[QueueItemPublic]


class FunnelStagePublic(_Public):
    group: dict[str, object]
    stage: str
    leads: int
    dated: int


class FunnelPairPublic(_Public):
    group: dict[str, object]
    from_stage: str
    to_stage: str
    from_leads: int
    to_leads: int
    rate: float | None


class FunnelPublic(_Public):
    by: list[str]
    stages: list[FunnelStagePublic]
    pairs: list[FunnelPairPublic]


class HealthPublic(_Public):
    status: Literal["ok", "degraded"]
    database: bool
    model_version: str


class SweepCreate(_Create):
    now: Timestamp | None = Field(
        default=None, description="Sweep as of this moment (default: now)"
    )


class SweepPublic(_Public):
    now: datetime
    breached: int
    reassigned: int
    notified: int


class DeliveryPublic(_Public):
    dispatched: int
    attempted: int
    delivered: int
    retrying: int
    dead: int


class ReplayCreate(_Create):
    endpoint_id: Id | None = Field(default=None, description="Only this endpoint's deliveries")
    message_id: Id | None = Field(default=None, description="Only this message's deliveries")
    since: Timestamp | None = Field(
        default=None, description="Only messages created at or after this moment"
    )


class ReplayPublic(_Public):
    replayed: int = Field(description="Dead deliveries put back to pending, due now")
