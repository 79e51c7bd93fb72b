"""Alembic environment: runs on the connection ``leadgate.storage.migrate`` passes in."""

from __future__ import annotations

from alembic import context

from leadgate.storage.database import make_engine
from leadgate.storage.tables import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///leadgate.db")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()
