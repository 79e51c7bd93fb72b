"""The REST service (FastAPI): ``create_app(settings)``; started by ``leadgate serve``."""

from leadgate.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
