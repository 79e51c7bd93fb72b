"""Job runs: one row per periodic job, its lock and when it last started.

The SLA sweep (in every service process and from cron) upserts its row first, so two
sweeps never escalate the same breach twice.

Revision ID: 0006_job_runs
Revises: 0005_webhook_secret_rotation
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_job_runs"
down_revision = "0005_webhook_secret_rotation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
