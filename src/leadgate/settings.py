"""Settings read from the environment (prefix ``LEADGATE_``); only entry points read them."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide configuration, validated once at the edge.

    Attributes:
        database_url: SQLAlchemy URL of the database (env ``LEADGATE_DATABASE_URL``), e.g.
            ``sqlite:///leadgate.db`` or ``postgresql+psycopg://user@host/db``.
    """

    model_config = SettingsConfigDict(env_prefix="LEADGATE_", extra="ignore")

    database_url: str = "sqlite:///leadgate.db"
