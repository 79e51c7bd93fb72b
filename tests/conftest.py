"""Shared fixtures; helpers and constants live in ``tests/testkit.py`` (import it by name)."""

from __future__ import annotations

import pytest

from leadgate.model.compiled import QualificationModel
from leadgate.model.compiler import compile_spec
from leadgate.model.loader import parse_spec
from testkit import SMALL_MODEL


@pytest.fixture(scope="session")
def small_model() -> QualificationModel:
    return compile_spec(parse_spec(SMALL_MODEL, "small.yaml"))
