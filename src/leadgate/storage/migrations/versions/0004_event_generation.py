"""The events generation: a counter every write to ``events`` moves, kept by triggers.

The service's ingest writer keeps the scoring history of the leads it rescored in memory
and uses it only while this counter still has the value it left it at: an event written,
changed or deleted by anything else (an import, an erasure, plain SQL) moves the counter
and so invalidates that copy. Triggers keep it, so no code path can forget to.

Revision ID: 0004_event_generation
Revises: 0003_service
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_event_generation"
down_revision = "0003_service"
branch_labels = None
depends_on = None

_SQLITE = (
    "CREATE TRIGGER events_generation_{name} AFTER {op} ON events "
    "BEGIN UPDATE events_generation SET generation = generation + 1 WHERE id = 1; END"
)
_PG_FUNCTION = """
CREATE FUNCTION events_generation_bump() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE events_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END $$
"""
# One bump per statement (not per row): a COPY-fed insert of thousands of events moves it
# once. AFTER the statement, so another writer holds the counter's row lock only from the
# end of its write to its commit (an import batch waits at most for one ingest group).
_PG_TRIGGER = (
    "CREATE TRIGGER events_generation_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON events FOR EACH STATEMENT EXECUTE FUNCTION events_generation_bump()"
)
_SQLITE_OPS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "events_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_generation")),
    )
    op.execute("INSERT INTO events_generation (id, generation) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for name in _SQLITE_OPS:
            op.execute(_SQLITE.format(name=name.lower(), op=name))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_generation_bump ON events")
        op.execute("DROP FUNCTION IF EXISTS events_generation_bump()")
    else:
        for name in _SQLITE_OPS:
            op.execute(f"DROP TRIGGER IF EXISTS events_generation_{name.lower()}")
    op.drop_table("events_generation")
