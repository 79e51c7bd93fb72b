"""The database schema as SQLAlchemy Core tables (the single source the migrations match).

Every timestamp is a :class:`UtcDateTime`: stored as ``timestamptz`` on PostgreSQL and as
``YYYY-MM-DD HH:MM:SS.ffffff`` UTC text on SQLite, and always read back tz-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

SQLITE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"
"""How a UTC timestamp is written on SQLite (Polars/chrono spelling), as SQLAlchemy does."""


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database; naive values are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: leadgate stores tz-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JsonDoc: sa.types.TypeEngine[Any] = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON text on SQLite, ``jsonb`` on PostgreSQL (``||`` merges, equality is semantic)."""

BigId: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""An auto-increment surrogate key (``INTEGER`` on SQLite so it aliases the rowid)."""


def _ts(name: str, *, nullable: bool = True, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UtcDateTime(), nullable=nullable, index=index)


models = sa.Table(
    "models",
    metadata,
    sa.Column("version", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("content_hash", sa.String(), nullable=False),
    sa.Column("artifact", sa.Text(), nullable=False),
    _ts("created_at", nullable=False),
)

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("team_id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("timezone", sa.String(), nullable=False, server_default="UTC"),
    # routing and SLAs (0002): {"mon": [["09:00", "17:00"]], ...}, ["2026-12-25", ...]
    sa.Column("working_hours", JsonDoc, nullable=True),
    sa.Column("holidays", JsonDoc, nullable=True),
    sa.Column("capacity_period", sa.String(), nullable=False, server_default="week"),
    sa.Column("manager_id", sa.String(), nullable=True),
)

owners = sa.Table(
    "owners",
    metadata,
    sa.Column("owner_id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("email", sa.String(), nullable=True),
    sa.Column("team_id", sa.String(), sa.ForeignKey("teams.team_id"), nullable=True, index=True),
    sa.Column("capacity", sa.Integer(), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    sa.Column("out_of_office", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("weight", sa.Float(), nullable=True),
    sa.Column("position", sa.Integer(), nullable=True),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=True),
    sa.Column("domain", sa.String(), nullable=True, unique=True),
    sa.Column("industry", sa.String(), nullable=True),
    sa.Column("employees", sa.BigInteger(), nullable=True),
    sa.Column("annual_revenue", sa.Float(), nullable=True),
    sa.Column("country", sa.String(), nullable=True),
    sa.Column("attributes", JsonDoc, nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
)

LEAD_LIFECYCLE_DATES = (
    "became_iql_at",
    "became_mql_at",
    "became_pql_at",
    "became_sal_at",
    "became_sql_at",
    "became_opportunity_at",
    "became_won_at",
    "became_lost_at",
    "recycled_at",
    "disqualified_at",
)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("lead_id", sa.String(), primary_key=True),
    sa.Column("email", sa.String(), nullable=True, unique=True),
    sa.Column(
        "account_id",
        sa.String(),
        sa.ForeignKey("accounts.account_id"),
        nullable=True,
        index=True,
    ),
    sa.Column("first_name", sa.String(), nullable=True),
    sa.Column("last_name", sa.String(), nullable=True),
    sa.Column("title", sa.String(), nullable=True),
    sa.Column("phone", sa.String(), nullable=True),
    sa.Column("country", sa.String(), nullable=True),
    sa.Column("source", sa.String(), nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    sa.Column("attributes", JsonDoc, nullable=True),
    sa.Column("owner_id", sa.String(), sa.ForeignKey("owners.owner_id"), nullable=True),
    # current lifecycle
    sa.Column("stage", sa.String(), nullable=False, server_default="new", index=True),
    _ts("stage_changed_at"),
    sa.Column("recycle_reason", sa.String(), nullable=True),
    _ts("recheck_at"),
    sa.Column("disqualified_reason", sa.String(), nullable=True),
    *(_ts(name) for name in LEAD_LIFECYCLE_DATES),
    # latest scores
    sa.Column("fit_score", sa.Float(), nullable=True),
    sa.Column("engagement_score", sa.Float(), nullable=True),
    sa.Column("product_score", sa.Float(), nullable=True),
    sa.Column("potential_value", sa.Float(), nullable=True),
    sa.Column("grade", sa.String(), nullable=True),
    sa.Column("temperature", sa.String(), nullable=True),
    sa.Column("segment", sa.String(), nullable=True),
    sa.Column("persona", sa.String(), nullable=True),
    sa.Column("buying_role", sa.String(), nullable=True),
    sa.Column("recommended_stage", sa.String(), nullable=True),
    _ts("scored_at"),
    sa.Column("model_version", sa.String(), sa.ForeignKey("models.version"), nullable=True),
    _ts("erased_at"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("event_id", sa.String(), primary_key=True),
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), nullable=False),
    sa.Column("event_type", sa.String(), nullable=False),
    _ts("occurred_at", nullable=False),
    sa.Column("properties", JsonDoc, nullable=True),
    _ts("received_at", nullable=False),
    # (lead_id, occurred_at) also serves lookups by lead_id alone.
    sa.Index(None, "lead_id", "occurred_at"),
)

events_generation = sa.Table(
    "events_generation",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger(), nullable=False),
)
"""One row (``id`` 1) whose ``generation`` moves with every write to ``events`` (0004).

Triggers keep it (per row on SQLite, per statement on PostgreSQL), whoever writes: a copy
of events held outside the database is current exactly while the counter is unchanged.
"""

discovery_answers = sa.Table(
    "discovery_answers",
    metadata,
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), primary_key=True),
    sa.Column("field", sa.String(), primary_key=True),
    sa.Column("value", JsonDoc, nullable=True),
    _ts("answered_at", nullable=False),
    sa.Column("actor", sa.String(), nullable=True),
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), nullable=False, index=True),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("lawful_basis", sa.String(), nullable=True),
    _ts("recorded_at", nullable=False),
    sa.Column("source", sa.String(), nullable=True),
)

STAGE_ACTIONS = (
    "auto",
    "accept",
    "recycle",
    "disqualify",
    "convert",
    "won",
    "lost",
    "requalify",
    "import",
    "manual",
)
"""Known values of ``stage_history.action`` (not enforced by the database)."""

stage_history = sa.Table(
    "stage_history",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), nullable=False, index=True),
    sa.Column("from_stage", sa.String(), nullable=True),
    sa.Column("to_stage", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("actor", sa.String(), nullable=True),
    sa.Column("reason", sa.String(), nullable=True),
    _ts("occurred_at", nullable=False),
    sa.Column("model_version", sa.String(), sa.ForeignKey("models.version"), nullable=True),
    sa.Column("fit_score", sa.Float(), nullable=True),
    sa.Column("engagement_score", sa.Float(), nullable=True),
    sa.Column("product_score", sa.Float(), nullable=True),
    sa.Column("grade", sa.String(), nullable=True),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), nullable=False, index=True),
    sa.Column("actor", sa.String(), nullable=True),
    sa.Column("verdict", sa.String(), nullable=False),
    sa.Column("reason", sa.String(), nullable=True),
    sa.Column("note", sa.Text(), nullable=True),
    _ts("created_at", nullable=False),
)

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("opportunity_id", sa.String(), primary_key=True),
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), nullable=True, index=True),
    sa.Column("account_id", sa.String(), nullable=True),
    _ts("opportunity_created_at"),
    sa.Column("amount", sa.Float(), nullable=True),
    sa.Column("won", sa.Boolean(), nullable=True),
    _ts("closed_at"),
    sa.Column("lost_reason", sa.String(), nullable=True),
)

# --- routing and SLAs (0002) --------------------------------------------------------------

owner_absences = sa.Table(
    "owner_absences",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "owner_id", sa.String(), sa.ForeignKey("owners.owner_id"), nullable=False, index=True
    ),
    _ts("starts_at", nullable=False),
    _ts("ends_at", nullable=False),
)

assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), nullable=False, index=True),
    sa.Column("owner_id", sa.String(), sa.ForeignKey("owners.owner_id"), nullable=True),
    sa.Column("team_id", sa.String(), nullable=True),
    sa.Column("rule_id", sa.String(), nullable=True),
    sa.Column("method", sa.String(), nullable=True),
    sa.Column("reason", sa.String(), nullable=False),
    sa.Column("escalate_to", sa.String(), nullable=True),
    sa.Column("model_version", sa.String(), sa.ForeignKey("models.version"), nullable=True),
    _ts("assigned_at", nullable=False),
    sa.Index(None, "owner_id", "assigned_at"),
)

sla_clocks = sa.Table(
    "sla_clocks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lead_id", sa.String(), sa.ForeignKey("leads.lead_id"), nullable=False, index=True),
    sa.Column("stage", sa.String(), nullable=False),
    sa.Column("team_id", sa.String(), nullable=True),
    sa.Column("owner_id", sa.String(), nullable=True),
    _ts("started_at", nullable=False),
    _ts("due_at"),
    _ts("stopped_at"),
    _ts("breached_at"),
    _ts("escalated_at"),
    sa.Column("outcome", sa.String(), nullable=False, server_default="open", index=True),
    sa.Column("budget_seconds", sa.Integer(), nullable=False),
    sa.Column("working", sa.Boolean(), nullable=False),
    sa.Column("stop_on", sa.String(), nullable=False),
    sa.Column("escalation", sa.String(), nullable=False),
    sa.Column("stopped_by", sa.String(), nullable=True),
    sa.Column("model_version", sa.String(), sa.ForeignKey("models.version"), nullable=True),
)
"""``outcome``: open, met, breached (stopped late or swept), left (the lead left the stage)."""

routing_cursors = sa.Table(
    "routing_cursors",
    metadata,
    sa.Column("team_id", sa.String(), primary_key=True),
    sa.Column("last_owner_id", sa.String(), nullable=True),
    _ts("updated_at", nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("message_id", sa.String(), primary_key=True),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("payload", JsonDoc, nullable=False),
    _ts("created_at", nullable=False),
    _ts("delivered_at"),
    # 0003: when the message was fanned out to the webhook endpoints active at that moment
    _ts("dispatched_at", index=True),
)
"""Outbound notifications, written in the transaction that caused them; delivery is later."""

# --- service: API keys, audit log, webhooks (0003) ------------------------------------------

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("role", sa.String(), nullable=False),
    sa.Column("owner_id", sa.String(), sa.ForeignKey("owners.owner_id"), nullable=True),
    sa.Column("secret_hash", sa.String(), nullable=False),
    _ts("created_at", nullable=False),
    _ts("revoked_at"),
    _ts("last_used_at"),
)
"""API keys: only the SHA-256 of each token's secret is stored."""

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _ts("at", nullable=False, index=True),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("subject_kind", sa.String(), nullable=True),
    sa.Column("subject_id", sa.String(), nullable=True),
    sa.Column("details", JsonDoc, nullable=True),
)
"""Who did what to which record (ids and counts only: never personal data)."""

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("endpoint_id", sa.String(), primary_key=True),
    sa.Column("url", sa.String(), nullable=False),
    sa.Column("secret", sa.String(), nullable=False),
    sa.Column("kinds", JsonDoc, nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    _ts("created_at", nullable=False),
    # 0005: after a rotation the old secret also signs until previous_secret_expires_at
    sa.Column("previous_secret", sa.String(), nullable=True),
    _ts("previous_secret_expires_at"),
)
"""Receivers of outbox messages; ``kinds`` (a JSON list) filters them, null means all."""

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("message_id", sa.String(), sa.ForeignKey("outbox.message_id"), primary_key=True),
    sa.Column(
        "endpoint_id",
        sa.String(),
        sa.ForeignKey("webhook_endpoints.endpoint_id"),
        primary_key=True,
        index=True,
    ),
    sa.Column("state", sa.String(), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    _ts("next_attempt_at", nullable=False),
    _ts("delivered_at"),
    sa.Column("last_status", sa.Integer(), nullable=True),
    sa.Column("last_error", sa.String(), nullable=True),
    sa.Index(None, "state", "next_attempt_at"),
)
"""One row per (message, endpoint): ``state`` pending, delivered or dead (gave up)."""

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("name", sa.String(), primary_key=True),
    _ts("started_at", nullable=False),
)
"""One row per periodic job (``sla_sweep``, ...): its lock and when it last started (0006).

A run upserts its row as its transaction's first write: on PostgreSQL the row lock, on
SQLite the write lock, keeps a second run (another service process, a cron job) waiting
until the first commits, and then it sees what the first did.
"""
