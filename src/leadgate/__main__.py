"""``python -m leadgate``."""

from leadgate.cli.app import run

run()
