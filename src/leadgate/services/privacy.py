"""Consent per lead and channel, the outreach flag routing obeys, and erasure of a person.

**Which leads may be routed to outreach** (``consent_ok``), per lead:

1. An erased lead never is (``consent_reason = "erased"``).
2. For each outreach channel (``email`` and ``phone`` by default) the record in force is the
   latest one (by ``recorded_at``, then insertion order) on that channel or on ``all``.
3. A channel is *open* when that record's status is ``granted`` (any lawful basis), or its
   lawful basis is ``legitimate_interest`` or ``contract`` and its status is not
   ``withdrawn``, ``denied`` or ``objected``. ``pending`` under ``consent`` (e.g. an
   unconfirmed double opt-in) is not open.
4. The lead is ok when at least one outreach channel is open; ``consent_reason`` then names
   the basis (``consent``, ``legitimate_interest``...), and otherwise the blocking status
   (``withdrawn``, ``objected``...) or ``no_consent``.
5. A lead with no record on any outreach channel is ok under the default policy, as B2B
   outreach under legitimate interest (``consent_reason = "no_record"``); with
   ``ConsentPolicy(require_record=True)`` it is not (``no_consent``).

Erasure (:func:`erase_lead`) is described in ``docs/security-and-privacy.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

import polars as pl

from leadgate.exceptions import NotFoundError, UsageError
from leadgate.model import columns as c
from leadgate.storage import audit
from leadgate.storage import privacy as store
from leadgate.storage import repositories as repo
from leadgate.storage import routing as routing_store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from leadgate.model.compiled import QualificationModel

STATUSES: Final = ("granted", "pending", "withdrawn", "denied", "objected")
BLOCKING: Final = ("withdrawn", "denied", "objected")
LAWFUL_BASES: Final = (
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interest",
)
PRESUMED_BASES: Final = ("legitimate_interest", "contract")
"""Bases that allow outreach without a ``granted`` status, until the person objects."""
ALL_CHANNELS: Final = "all"
CONSENT_OK: Final = "consent_ok"
CONSENT_REASON: Final = "consent_reason"
FLAGS_SCHEMA: Final = pl.Schema(
    {c.LEAD_ID: pl.String(), CONSENT_OK: pl.Boolean(), CONSENT_REASON: pl.String()}
)


@dataclass(frozen=True)
class ConsentPolicy:
    """Which channels count as outreach, and whether silence counts as no."""

    outreach_channels: tuple[str, ...] = ("email", "phone")
    require_record: bool = False

    @classmethod
    def of(cls, model: QualificationModel) -> ConsentPolicy:
        """The policy a model's ``routing.consent`` declares."""
        routing = model.routing
        return cls(routing.outreach_channels, routing.consent_required)


DEFAULT_POLICY: Final = ConsentPolicy()


def _code(value: str, what: str, allowed: Sequence[str] | None = None) -> str:
    text = value.strip().lower()
    if allowed is not None and text not in allowed:
        raise UsageError(
            f"Unknown consent {what} {value!r}.",
            hint="use one of " + ", ".join(allowed),
            code=f"bad_consent_{what.replace(' ', '_')}",
        )
    if not store.REASON_CODE.fullmatch(text):
        raise UsageError(
            f"Consent {what} {value!r} is not a short code.",
            hint="use lower-case letters, digits and underscores, e.g. 'email'",
            code=f"bad_consent_{what.replace(' ', '_')}",
        )
    return text


def record_consent(
    conn: Connection,
    lead_id: str,
    channel: str,
    status: str,
    *,
    recorded_at: datetime,
    lawful_basis: str | None = None,
    source: str | None = None,
) -> int:
    """Append a consent record for a lead and channel (``all`` covers every channel).

    Returns:
        The new record's id; the latest record per channel is the one in force.

    Raises:
        UsageError: An unknown status or lawful basis, or a channel that is not a code.
        NotFoundError: No such lead, or it was erased.
    """
    channel = _code(channel, "channel")
    status = _code(status, "status", STATUSES)
    basis = None if lawful_basis is None else _code(lawful_basis, "lawful basis", LAWFUL_BASES)
    state = repo.get_lead_state(conn, lead_id)
    if state is None or state.erased_at is not None:
        raise NotFoundError(
            f"No lead {lead_id!r}" + (" (it was erased)." if state is not None else "."),
            hint="record consent for a stored lead id",
        )
    return repo.record_consent(
        conn,
        lead_id,
        channel,
        status,
        recorded_at=recorded_at,
        lawful_basis=basis,
        source=source,
    )


def flags_from(
    consents: pl.DataFrame, erased: pl.DataFrame, policy: ConsentPolicy = DEFAULT_POLICY
) -> pl.DataFrame:
    """The outreach flag per lead of ``erased`` (``lead_id, erased_at``) from its records.

    Pure: ``consents`` has ``id, lead_id, channel, status, lawful_basis, recorded_at``.
    """
    # One lazy query, collected once unoptimised: routing asks for a few leads at a time.
    channels = pl.LazyFrame({"channel": list(policy.outreach_channels)})
    direct = consents.lazy().filter(pl.col("channel").is_in(policy.outreach_channels))
    spread = (
        consents.lazy()
        .filter(pl.col("channel") == ALL_CHANNELS)
        .drop("channel")
        .join(channels, how="cross")
        .select(consents.columns)
    )
    in_force = (
        pl.concat([direct, spread]).sort("recorded_at", "id").group_by(c.LEAD_ID, "channel").last()
    )
    status, basis = pl.col("status"), pl.col("lawful_basis")
    is_open = (status == "granted") | (basis.is_in(PRESUMED_BASES) & ~status.is_in(BLOCKING))
    why = (
        pl.when(is_open)
        .then(pl.coalesce(basis, pl.lit("consent")))
        .when(status.is_in(BLOCKING))
        .then(status)
        .otherwise(pl.lit("no_consent"))
    )
    # open channels first, then the most recent record: it explains the lead's flag
    per_lead = (
        in_force.with_columns(is_open.alias("__open"), why.alias("__why"))
        .sort("__open", "recorded_at", "id", descending=True)
        .group_by(c.LEAD_ID)
        .first()
        .select(c.LEAD_ID, "__open", "__why")
    )
    silent_ok = not policy.require_record
    joined = erased.lazy().join(per_lead, on=c.LEAD_ID, how="left")
    return (
        joined.select(
            pl.col(c.LEAD_ID),
            pl.when(pl.col("erased_at").is_not_null())
            .then(pl.lit(False))
            .otherwise(pl.col("__open").fill_null(silent_ok))
            .alias(CONSENT_OK),
            pl.when(pl.col("erased_at").is_not_null())
            .then(pl.lit("erased"))
            .when(pl.col("__why").is_null())
            .then(pl.lit("no_record" if silent_ok else "no_consent"))
            .otherwise(pl.col("__why"))
            .alias(CONSENT_REASON),
        )
        .sort(c.LEAD_ID)
        .collect(engine="in-memory", optimizations=pl.QueryOptFlags.none())
    )


def consent_flags(
    conn: Connection,
    lead_ids: Sequence[str] | None = None,
    *,
    policy: ConsentPolicy = DEFAULT_POLICY,
) -> pl.DataFrame:
    """``lead_id, consent_ok, consent_reason`` for the given stored leads (all when ``None``).

    Unknown ids are left out. See the module docstring for the rule.
    """
    ids = None if lead_ids is None else [str(i) for i in lead_ids]
    erased = store.read_erased(conn, ids)
    if erased.height == 0:
        return pl.DataFrame(schema=FLAGS_SCHEMA)
    consents = store.read_consents(conn, ids)
    return flags_from(consents, erased, policy)


@dataclass(frozen=True)
class ErasureSummary:
    """What erasing one person removed (counts only)."""

    lead_id: str
    erased_at: datetime
    events_deleted: int
    discovery_answers_deleted: int
    consents_deleted: int
    feedback_notes_cleared: int
    reasons_cleared: int
    outbox_deleted: int
    outbox_redacted: int
    already_erased: bool = False


def erase_lead(conn: Connection, lead_id: str, *, actor: str, now: datetime) -> ErasureSummary:
    """Erase a person's personal data and events, keeping the anonymised funnel row.

    Runs in the caller's transaction: the erasure, its audit entry and a ``lead.erased``
    outbox message (so webhook receivers can erase their copies) commit together. Erasing
    an erased lead again is safe (it finds nothing more to remove and is audited again).

    Raises:
        NotFoundError: No lead with this id.
    """
    lead_id = str(lead_id)
    state = repo.get_lead_state(conn, lead_id)
    if state is None:
        raise NotFoundError(f"No lead {lead_id!r}.", hint="check the id (erasure needs one)")
    rows = store.erase_person(conn, lead_id, now=now)
    summary = ErasureSummary(
        lead_id=lead_id,
        erased_at=now,
        events_deleted=rows.events_deleted,
        discovery_answers_deleted=rows.discovery_answers_deleted,
        consents_deleted=rows.consents_deleted,
        feedback_notes_cleared=rows.feedback_notes_cleared,
        reasons_cleared=rows.reasons_cleared,
        outbox_deleted=rows.outbox_deleted,
        outbox_redacted=rows.outbox_redacted,
        already_erased=state.erased_at is not None,
    )
    details = {
        k: v for k, v in vars(rows).items() if isinstance(v, int) and not isinstance(v, bool)
    }
    audit.append_audit(
        conn,
        at=now,
        actor=actor,
        action="lead.erased",
        subject_kind="lead",
        subject_id=lead_id,
        details=details | {"already_erased": summary.already_erased},
    )
    from leadgate.services.routing import message_id

    routing_store.add_to_outbox(
        conn,
        [
            {
                "message_id": message_id("lead.erased", f"{lead_id}:{now.isoformat()}"),
                "kind": "lead.erased",
                "payload": {"lead_id": lead_id, "erased_at": now.isoformat()},
                "created_at": now,
            }
        ],
    )
    return summary


__all__ = [
    "BLOCKING",
    "CONSENT_OK",
    "CONSENT_REASON",
    "DEFAULT_POLICY",
    "LAWFUL_BASES",
    "STATUSES",
    "ConsentPolicy",
    "ErasureSummary",
    "consent_flags",
    "erase_lead",
    "flags_from",
    "record_consent",
]
