"""Alembic migrations shipped with the package (run through ``leadgate.storage.migrate``)."""
