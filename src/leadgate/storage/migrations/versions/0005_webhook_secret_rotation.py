"""Webhook secret rotation: an endpoint's previous secret and when it stops signing.

During a rotation's grace period deliveries are signed with both the new and the previous
secret, so a receiver can switch at its own pace; after ``previous_secret_expires_at`` only
the new one signs. Secrets are stored as before (they are needed to sign).

Revision ID: 0005_webhook_secret_rotation
Revises: 0004_event_generation
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_webhook_secret_rotation"
down_revision = "0004_event_generation"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch "move and copy" would drop and
# recreate webhook_endpoints, which the deliveries' foreign key refuses while rows exist.


def upgrade() -> None:
    op.add_column("webhook_endpoints", sa.Column("previous_secret", sa.String(), nullable=True))
    op.add_column(
        "webhook_endpoints",
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("webhook_endpoints", "previous_secret_expires_at")
    op.drop_column("webhook_endpoints", "previous_secret")
