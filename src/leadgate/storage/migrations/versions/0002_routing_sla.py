"""Routing and SLAs: team calendars, rep weights, absences, assignments, SLA clocks,
round-robin cursors and the outbox.

Revision ID: 0002_routing_sla
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_routing_sla"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_hours", _JSON, nullable=True))
        batch_op.add_column(sa.Column("holidays", _JSON, nullable=True))
        batch_op.add_column(
            sa.Column("capacity_period", sa.String(), server_default="week", nullable=False)
        )
        batch_op.add_column(sa.Column("manager_id", sa.String(), nullable=True))
    with op.batch_alter_table("owners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weight", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))

    op.create_table(
        "owner_absences",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.String(), nullable=False),
        _ts("starts_at", nullable=False),
        _ts("ends_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.owner_id"], name=op.f("fk_owner_absences_owner_id_owners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_absences")),
    )
    op.create_index(
        op.f("ix_owner_absences_owner_id"), "owner_absences", ["owner_id"], unique=False
    )

    op.create_table(
        "assignments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(), nullable=False),
        sa.Column("owner_id", sa.String(), nullable=True),
        sa.Column("team_id", sa.String(), nullable=True),
        sa.Column("rule_id", sa.String(), nullable=True),
        sa.Column("method", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("escalate_to", sa.String(), nullable=True),
        sa.Column("model_version", sa.String(), nullable=True),
        _ts("assigned_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.lead_id"], name=op.f("fk_assignments_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["model_version"],
            ["models.version"],
            name=op.f("fk_assignments_model_version_models"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.owner_id"], name=op.f("fk_assignments_owner_id_owners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_lead_id"), "assignments", ["lead_id"], unique=False)
    op.create_index(
        op.f("ix_assignments_owner_id_assigned_at"),
        "assignments",
        ["owner_id", "assigned_at"],
        unique=False,
    )

    op.create_table(
        "sla_clocks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=True),
        sa.Column("owner_id", sa.String(), nullable=True),
        _ts("started_at", nullable=False),
        _ts("due_at"),
        _ts("stopped_at"),
        _ts("breached_at"),
        _ts("escalated_at"),
        sa.Column("outcome", sa.String(), server_default="open", nullable=False),
        sa.Column("budget_seconds", sa.Integer(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("stop_on", sa.String(), nullable=False),
        sa.Column("escalation", sa.String(), nullable=False),
        sa.Column("stopped_by", sa.String(), nullable=True),
        sa.Column("model_version", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.lead_id"], name=op.f("fk_sla_clocks_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["model_version"],
            ["models.version"],
            name=op.f("fk_sla_clocks_model_version_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
    )
    op.create_index(op.f("ix_sla_clocks_lead_id"), "sla_clocks", ["lead_id"], unique=False)
    op.create_index(op.f("ix_sla_clocks_outcome"), "sla_clocks", ["outcome"], unique=False)

    op.create_table(
        "routing_cursors",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("last_owner_id", sa.String(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_routing_cursors")),
    )
    op.create_table(
        "outbox",
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        _ts("created_at", nullable=False),
        _ts("delivered_at"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_outbox")),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("routing_cursors")
    op.drop_index(op.f("ix_sla_clocks_outcome"), table_name="sla_clocks")
    op.drop_index(op.f("ix_sla_clocks_lead_id"), table_name="sla_clocks")
    op.drop_table("sla_clocks")
    op.drop_index(op.f("ix_assignments_owner_id_assigned_at"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_lead_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(op.f("ix_owner_absences_owner_id"), table_name="owner_absences")
    op.drop_table("owner_absences")
    with op.batch_alter_table("owners", schema=None) as batch_op:
        batch_op.drop_column("position")
        batch_op.drop_column("weight")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("manager_id")
        batch_op.drop_column("capacity_period")
        batch_op.drop_column("holidays")
        batch_op.drop_column("working_hours")
